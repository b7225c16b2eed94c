package diagnose

import "fmt"

// apiLines returns up to three lines of n's API errors matching keep.
func apiLines(n *Node, keep func(APIError) bool) []Line {
	var out []Line
	for _, e := range n.Obs.APIErrors {
		if keep(e) {
			out = append(out, e.Line)
		}
	}
	return firstLines(out, 3)
}

// proxyListening reports what ss says about 127.0.0.1:6443 on n: seen is
// false without ss output.
func proxyListening(n *Node) (listening, seen bool) {
	if !n.Obs.ListenersSeen {
		return false, false
	}
	return len(n.listenersOn(6443)) > 0, true
}

// nginxLines quotes n's nginx-proxy config.
func nginxLines(n *Node) []Line {
	var out []Line
	for _, c := range n.Obs.Nginx {
		out = append(out, c.Lines...)
	}
	return firstLines(out, 6)
}

// ruleAPIServerProxyDown: calico-node's connections to the local API
// proxy (127.0.0.1:6443) are refused, or nginx-proxy is configured but
// nothing listens on 6443.
func ruleAPIServerProxyDown(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		refused := apiLines(n, func(e APIError) bool { return e.Local() && e.Reason == "refused" })
		// A connect to the loopback proxy that fails for a reason the
		// line does not keep (cut short: "dial tcp 127.0.0.1:6443: con")
		// still says nothing answers there.
		cut := apiLines(n, func(e APIError) bool { return e.Local() && e.Dial && e.Reason == "other" })
		hasNginx := len(n.Obs.Nginx) > 0
		listening, ssSeen := proxyListening(n)
		notListening := ssSeen && !listening
		var ssLine []Line
		if notListening {
			ssLine = []Line{{n.Obs.ListenersSource, "(ss -ltnp) nothing listens on port 6443"}}
		}
		label := c.Label(n)
		var podLines []Line
		podMissing := false
		if len(refused) > 0 {
			var others []Line
			if podMissing, others = proxyPodMissing(c, label); podMissing {
				podLines = append([]Line{proxyPodLine(label, others)}, others...)
			}
		}
		switch {
		case len(refused) > 0:
			conf := Medium
			if hasNginx || notListening || podMissing {
				conf = High
			}
			if listening {
				conf = Medium
			}
			f := newFinding(CauseAPIServerProxyDown, conf, label, "",
				fmt.Sprintf("%s: calico-node's connections to the local API server proxy %s are refused, so confd cannot render BIRD's peers", orNode(label), hostOfLines(n)),
				concat(refused, ssLine, podLines, nginxLines(n)))
			if !hasNginx && !podMissing {
				f = f.withNotes(fmt.Sprintf("%s: no nginx.conf given; 127.0.0.1:6443 is kubespray's nginx-proxy on workers, another local proxy would fit too", orNode(label)))
			}
			out = append(out, f)
		case len(cut) > 0 && !listening:
			out = append(out, newFinding(CauseAPIServerProxyDown, Medium, label, "",
				fmt.Sprintf("%s: connections to the local API server proxy %s fail at connect, so the node's clients cannot reach the API server", orNode(label), hostOfLines(n)),
				concat(cut, ssLine, nginxLines(n))).withNotes(
				fmt.Sprintf("%s: the error text is cut short; ss -ltnp | grep 6443 would show whether the proxy listens", orNode(label))))
		case hasNginx && notListening:
			conf := Medium
			if _, unconf := n.Unconfigured(); unconf {
				conf = High
			}
			out = append(out, newFinding(CauseAPIServerProxyDown, conf, label, "",
				fmt.Sprintf("%s: nginx-proxy is configured to listen on 127.0.0.1:6443 but nothing listens there", orNode(label)),
				concat(ssLine, nginxLines(n))))
		}
	}
	return out
}

// hostOfLines names the local proxy address the node dialled.
func hostOfLines(n *Node) string {
	for _, e := range n.Obs.APIErrors {
		if e.Local() {
			return e.Addr
		}
	}
	return "127.0.0.1:6443"
}

// ruleAPIServerProxyBadUpstream: the nginx-proxy upstreams are not the
// control-plane nodes, or the proxy listens but connections through it
// time out, reset or end early.
func ruleAPIServerProxyBadUpstream(c *Cluster) []Finding {
	var ctl []KubeNode
	for _, k := range c.KubeNodes() {
		if k.ControlPlane() {
			ctl = append(ctl, k)
		}
	}
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, conf := range n.Obs.Nginx {
			if len(ctl) == 0 || len(conf.Upstreams) == 0 {
				continue
			}
			var bad []string
			for _, u := range conf.Upstreams {
				if !isControlPlane(ctl, hostOf(u)) {
					bad = append(bad, u)
				}
			}
			if len(bad) == 0 {
				continue
			}
			level := Low
			if len(bad) == len(conf.Upstreams) {
				level = High
			}
			var lines []Line
			lines = append(lines, conf.Lines...)
			for _, k := range ctl {
				lines = append(lines, k.Line)
			}
			out = append(out, newFinding(CauseAPIServerProxyBadUpstream, level, label, "",
				fmt.Sprintf("%s: nginx-proxy forwards to %v, which are not control-plane nodes", orNode(label), bad), lines))
		}
		listening, _ := proxyListening(n)
		broken := apiLines(n, func(e APIError) bool {
			return e.Local() && (e.Reason == "timeout" || e.Reason == "eof" || e.Reason == "reset")
		})
		accepted := false
		for _, e := range n.Obs.APIErrors {
			accepted = accepted || e.Local() && e.Accepted
		}
		if len(broken) > 0 && (listening || len(n.Obs.Nginx) > 0 || accepted) {
			out = append(out, newFinding(CauseAPIServerProxyBadUpstream, Medium, label, "",
				fmt.Sprintf("%s: the local API server proxy accepts connections but they time out or are cut: its upstream masters do not answer", orNode(label)),
				concat(broken, nginxLines(n))).withNotes(
				fmt.Sprintf("%s: curl -k https://<master>:6443/healthz for each nginx upstream would confirm which master is dead", orNode(label))))
		}
	}
	return out
}

func isControlPlane(ctl []KubeNode, host string) bool {
	for _, k := range ctl {
		if k.InternalIP == host || k.ExternalIP == host || k.Name == host {
			return true
		}
	}
	return false
}

// ruleAPIServerUnreachable: calico-node cannot reach a non-local API
// server address.
func ruleAPIServerUnreachable(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		lines := apiLines(n, func(e APIError) bool { return !e.Local() && e.Addr != "" && e.Reason != "tls" })
		if len(lines) == 0 {
			continue
		}
		conf := Medium
		if _, unconf := n.Unconfigured(); unconf || len(n.Obs.DatastoreErrors) > 0 {
			conf = High
		}
		label := c.Label(n)
		addr := ""
		for _, e := range n.Obs.APIErrors {
			if !e.Local() && e.Addr != "" {
				addr = e.Addr
				break
			}
		}
		out = append(out, newFinding(CauseAPIServerUnreachable, conf, label, "",
			fmt.Sprintf("%s: calico-node cannot reach the API server at %s", orNode(label), addr),
			concat(lines, firstLines(n.Obs.DatastoreErrors, 2))).withSteps(
			fmt.Sprintf("from %s: curl -k https://%s/healthz", orNode(label), addr)))
	}
	return out
}
