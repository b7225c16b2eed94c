package diagnose

// routerNodeNotifications returns the NOTIFICATIONs a router node sent or
// received on sessions that are not Established, as error events: the
// router's end of the same story BIRD tells at the other end.
func routerNodeNotifications(n *Node) []routerNodeNotification {
	var out []routerNodeNotification
	for _, rs := range n.Obs.RouterSessions {
		if rs.Established() {
			continue
		}
		for _, x := range []struct {
			n    *RouterNotification
			sent bool
		}{{rs.Sent, true}, {rs.Received, false}} {
			if x.n != nil && x.n.Code != 0 {
				out = append(out, routerNodeNotification{Peer: rs.Peer, Code: x.n.Code, Subcode: x.n.Subcode, Sent: x.sent, Lines: []Line{rs.Line}})
			}
		}
	}
	return out
}

// routerNodeNotification is one NOTIFICATION of a router's session.
type routerNodeNotification struct {
	Peer          string
	Code, Subcode uint8
	Sent          bool
	Lines         []Line
}

// isRouter reports whether n is a router node of the lab (no BIRD, no
// calico-node), so Calico's expectations do not apply to it.
func (n *Node) isRouter() bool { return n != nil && n.Obs.Router != "" }
