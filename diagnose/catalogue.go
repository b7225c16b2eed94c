package diagnose

// Cause is a slug naming why a session is down; docs/diagnosis.md describes
// each.
type Cause string

// The causes the rules can conclude.
const (
	CauseWrongIPAutodetect         Cause = "wrong-ip-autodetect"
	CauseTCP179Dropped             Cause = "tcp179-dropped"
	CauseTCP179Rejected            Cause = "tcp179-rejected"
	CauseNoRouteToPeer             Cause = "no-route-to-peer"
	CausePeerBirdDown              Cause = "peer-bird-down"
	CausePeerBirdUnconfigured      Cause = "peer-bird-unconfigured"
	CausePort179InUse              Cause = "port179-in-use"
	CauseSourceIPMissing           Cause = "source-ip-missing"
	CauseStaleNode                 Cause = "stale-node"
	CauseASMismatch                Cause = "as-mismatch"
	CauseRouterIDConflict          Cause = "router-id-conflict"
	CauseMD5Mismatch               Cause = "md5-mismatch"
	CauseMD5Unsupported            Cause = "md5-unsupported"
	CauseSNATNodeTraffic           Cause = "snat-node-traffic"
	CauseAPIServerProxyDown        Cause = "apiserver-proxy-down"
	CauseAPIServerProxyBadUpstream Cause = "apiserver-proxy-bad-upstream"
	CauseAPIServerUnreachable      Cause = "apiserver-unreachable"
	CauseHoldTimerExpired          Cause = "hold-timer-expired"
	CauseUnacceptableHoldTime      Cause = "unacceptable-hold-time"
	CauseBadTimers                 Cause = "bad-timers"
	CauseVXLANOnlyBirdCheck        Cause = "vxlan-only-bird-check"
	CauseBGPPeerASMismatch         Cause = "bgppeer-as-mismatch"
	CauseMeshDisabledNoPeers       Cause = "mesh-disabled-no-peers"
	CausePeerSelectorMatchesNone   Cause = "peer-selector-matches-nothing"
	CauseListenPortMismatch        Cause = "listen-port-mismatch"
	CauseRRClusterMisplaced        Cause = "rr-cluster-misplaced"
	CauseUnknown                   Cause = "unknown"
)

// CauseInfo describes one cause of the catalogue.
type CauseInfo struct {
	// Cause is the slug.
	Cause Cause
	// Title is a short human name.
	Title string
	// Depth orders causes that explain one another: a lower depth is closer
	// to the root (apiserver-proxy-down explains peer-bird-unconfigured),
	// so among findings of equal confidence it ranks first.
	Depth int
	// Remediation lists the generic steps for the cause; findings may add
	// steps naming the node, peer or address.
	Remediation []string
}

// Catalogue returns every cause the diagnosis knows, in documentation
// order. Each call returns a new slice.
func Catalogue() []CauseInfo {
	return []CauseInfo{
		{CauseAPIServerProxyDown, "the node's local API server proxy (kubespray nginx-proxy) is down", 0, []string{
			"on the node: crictl ps -a --name nginx-proxy; crictl logs <id> (is the static pod running?)",
			"check /etc/kubernetes/manifests/nginx-proxy.yml exists and kubelet runs it (journalctl -u kubelet | grep nginx-proxy)",
			"check nothing else holds 127.0.0.1:6443 and that /etc/nginx/nginx.conf is valid (nginx -t inside the pod)",
			"once the proxy listens on 127.0.0.1:6443, restart calico-node on the node: kubectl -n kube-system delete pod -l k8s-app=calico-node --field-selector spec.nodeName=<node>",
		}},
		{CauseAPIServerProxyBadUpstream, "the local API server proxy forwards to wrong or dead masters", 0, []string{
			"compare the upstream servers in /etc/nginx/nginx.conf with the control-plane addresses (kubectl get nodes -o wide)",
			"from the node: curl -k https://<master>:6443/healthz for each upstream server",
			"fix the upstream list (re-run kubespray's nginx-proxy role or edit nginx.conf) and restart the nginx-proxy pod; note its :8081/healthz answers 200 without contacting any master",
		}},
		{CauseAPIServerUnreachable, "calico-node cannot reach the Kubernetes API server", 0, []string{
			"from the node: curl -k https://<apiserver>/healthz (the address in the calico-node log)",
			"check the kubernetes service endpoints (kubectl get endpoints kubernetes) and kube-proxy on the node",
			"check firewalls and routes between the node and the control plane",
		}},
		{CauseVXLANOnlyBirdCheck, "Calico runs in VXLAN mode but the readiness probe still checks BIRD", 0, []string{
			"with calico_backend: vxlan BIRD does not run: remove -bird-ready (and -bird-live) from calico-node's probes",
			"kubectl -n kube-system edit ds calico-node: readinessProbe exec command [/bin/calico-node, -felix-ready]",
			"or, if BGP is wanted, set calico_backend: bird in the calico-config ConfigMap",
		}},
		{CauseWrongIPAutodetect, "calico-node autodetected the wrong node IP", 1, []string{
			"calicoctl get node <node> -o yaml: check spec.bgp.ipv4Address",
			"set IP_AUTODETECTION_METHOD on calico-node, e.g. interface=eth0, can-reach=<gateway> or kubernetes-internal-ip",
			"restart calico-node on the node so it re-detects, then calicoctl node status on its peers",
		}},
		{CauseSourceIPMissing, "BIRD is told to use a source address the node does not have", 1, []string{
			"ip -4 addr: the address in bird.cfg's 'source address' (BIRD 2: 'local') must be on an interface",
			"if the node's IP changed, fix the Calico node resource (calicoctl get node <node> -o yaml, spec.bgp.ipv4Address) or IP_AUTODETECTION_METHOD",
			"restart calico-node so confd re-renders bird.cfg",
		}},
		{CauseStaleNode, "a peer is a Calico node that no longer exists", 1, []string{
			"calicoctl get nodes -o wide: find the node whose address is the peer",
			"if that Kubernetes node is gone: calicoctl delete node <name> (and kubectl delete node <name> if still listed)",
		}},
		{CausePeerBirdUnconfigured, "BIRD runs without the peer's BGP protocol (confd did not render the mesh)", 2, []string{
			"on the node without Mesh_ protocols: kubectl -n kube-system logs <calico-node pod> -c calico-node | grep -i -e confd -e error",
			"check calico-node reaches the API server (see apiserver-* causes), then restart calico-node on that node",
			"calicoctl get nodes: every node must have a BGP address, and the node-to-node mesh must be enabled (calicoctl get bgpconfig default)",
		}},
		{CausePeerBirdDown, "BIRD is not running on the peer", 2, []string{
			"on the peer: kubectl -n kube-system logs <calico-node pod> -c calico-node | grep -i bird",
			"on the peer: ss -ltnp | grep ':179' (BIRD must listen) and ls -l /var/run/calico/bird.ctl",
			"restart calico-node on the peer; if BIRD crashes, read its log for config errors",
		}},
		{CausePort179InUse, "another process holds TCP port 179", 2, []string{
			"ss -ltnp 'sport = :179' on the node: find the process that is not bird",
			"stop that process (another BGP daemon, MetalLB speaker in BGP mode, kube-router, a leftover bird) or move it to another port",
			"restart calico-node so BIRD can bind port 179",
		}},
		{CauseASMismatch, "the AS numbers configured on the two ends disagree", 3, []string{
			"calicoctl get bgpconfig default -o yaml (asNumber) and calicoctl get node <node> -o yaml (spec.bgp.asNumber) on both ends",
			"for global/node peers: calicoctl get bgppeer -o yaml: asNumber must be the AS the peer really uses",
		}},
		{CauseRouterIDConflict, "two speakers use the same BGP router ID", 3, []string{
			"compare 'router id' in each node's bird.cfg: they must differ",
			"calicoctl get node -o yaml: check spec.bgp.routerID / ipv4Address; duplicate IPs often come from cloned VMs or a shared autodetected address",
		}},
		{CauseMD5Mismatch, "the TCP MD5 (BGP password) settings of the two ends disagree", 3, []string{
			"compare the password of the BGPPeer (calicoctl get bgppeer -o yaml, spec.password.secretKeyRef) with the router's neighbor password",
			"check the secret exists in calico-node's namespace and calico-node may read it",
			"a password on one end only also fails: both ends need it, or neither",
		}},
		{CauseMD5Unsupported, "the kernel cannot do TCP MD5 signatures", 3, []string{
			"the node's kernel needs CONFIG_TCP_MD5SIG (grep TCP_MD5SIG /boot/config-$(uname -r))",
			"or remove the password from the BGPPeer",
		}},
		{CauseSNATNodeTraffic, "node-to-node BGP traffic is source-NATed", 3, []string{
			"iptables -t nat -S POSTROUTING / nft list ruleset on the connecting node: exclude TCP port 179 and node-to-node traffic from MASQUERADE/SNAT",
			"check the peer's BIRD log: 'Unexpected connect from unknown address <X>' names the translated address",
		}},
		{CauseBadTimers, "bird.cfg sets BGP timers that cannot keep a session up", 3, []string{
			"in bird.cfg: hold time must be 0 or at least 3 s, and keepalive time below the hold time (a third of it is usual: hold time 9; keepalive time 3;)",
			"the session runs with the lower hold time of both ends: a keepalive time must also be below the peer's hold time",
			"with Calico, fix keepAliveTime/holdTime where they are set (BGPConfiguration, BGPPeer or a bird.cfg template override), then birdc configure",
		}},
		{CauseTCP179Rejected, "TCP port 179 is rejected (RST or ICMP prohibited) on the way", 4, []string{
			"on both nodes and cloud security groups: allow TCP 179 between the nodes (iptables -S / nft list ruleset, look for REJECT on 179)",
			"from the node: nc -vz <peer> 179",
		}},
		{CauseTCP179Dropped, "TCP port 179 is silently dropped on the way", 4, []string{
			"allow TCP 179 between the nodes in host firewalls and cloud security groups (look for DROP rules)",
			"tcpdump -ni any tcp port 179 on both ends: SYNs that leave one node and never reach the other",
		}},
		{CauseNoRouteToPeer, "the node has no route to the peer", 4, []string{
			"ip route get <peer> on the node",
			"check the interfaces and routes between the nodes; for peers on other subnets a gateway route is needed",
		}},
		{CauseHoldTimerExpired, "the session was up but keepalives stopped arriving", 5, []string{
			"look for packet loss, MTU problems or a congested/overloaded node between the peers (ping -M do -s 1472 <peer>)",
			"check CPU starvation of calico-node (BIRD misses its keepalives) and conntrack table exhaustion",
		}},
		{CauseUnacceptableHoldTime, "one end proposed a hold time the other refuses", 5, []string{
			"hold time must be 0 or at least 3 seconds on both ends; compare the BGPPeer/BGPConfiguration keepalive and hold settings with the router",
		}},
		{CauseBGPPeerASMismatch, "a BGPPeer's asNumber is not the AS its peer uses (often a node's own AS put on the BGPPeer)", 1, []string{
			"BGPPeer.spec.asNumber is the PEER's AS; a node's own AS goes on the Calico Node: calicoctl patch node <node> -p '{\"spec\":{\"bgp\":{\"asNumber\":<node AS>}}}'",
			"then set the BGPPeer to the AS the peer really uses: calicoctl patch bgppeer <name> -p '{\"spec\":{\"asNumber\":<peer AS>}}'",
		}},
		{CauseMeshDisabledNoPeers, "the node-to-node mesh is disabled and no BGPPeer replaces it", 1, []string{
			"turn the mesh back on until route reflectors or ToR peers exist: calicoctl patch bgpconfiguration default -p '{\"spec\":{\"nodeToNodeMeshEnabled\":true}}'",
			"or create the BGPPeers that replace it (route reflectors: peerSelector on nodes with spec.bgp.routeReflectorClusterID) before disabling the mesh",
		}},
		{CausePeerSelectorMatchesNone, "a BGPPeer's peerSelector matches no Calico node", 1, []string{
			"compare the BGPPeer's peerSelector with the nodes' labels: calicoctl get bgppeer <name> -o yaml; kubectl get nodes --show-labels",
			"fix the selector (calicoctl patch bgppeer <name> -p '{\"spec\":{\"peerSelector\":\"...\"}}') or label the intended nodes (kubectl label node <node> <key>=<value>)",
		}},
		{CauseListenPortMismatch, "BIRD listens on different BGP ports on different nodes", 1, []string{
			"calicoctl get bgpconfig -o yaml: listenPort of default and of every node.<name> must agree",
			"remove the odd one: calicoctl patch bgpconfiguration node.<node> -p '{\"spec\":{\"listenPort\":<cluster port>}}' (or delete that node's BGPConfiguration)",
		}},
		{CauseRRClusterMisplaced, "routeReflectorClusterID is set on the wrong nodes for the BGPPeers that pick route reflectors", 1, []string{
			"the nodes a BGPPeer's peerSelector picks are the route reflectors: each needs spec.bgp.routeReflectorClusterID (calicoctl patch node <rr> -p '{\"spec\":{\"bgp\":{\"routeReflectorClusterID\":\"244.0.0.1\"}}}')",
			"clients must not carry it: kubectl patch nodes.crd.projectcalico.org <client> --type merge -p '{\"spec\":{\"bgp\":{\"routeReflectorClusterID\":null}}}'",
		}},
		{CauseUnknown, "the evidence fits no known cause", 9, []string{
			"collect more evidence from both ends of the session: calicoctl node status, birdc show protocols all, ss -ltnp, ip -4 addr, ip route, the calico-node log",
			"peerlab diagnose --artifacts with those files",
		}},
	}
}

// causeInfo returns the catalogue entry of c, or the unknown entry.
func causeInfo(cat []CauseInfo, c Cause) CauseInfo {
	for _, ci := range cat {
		if ci.Cause == c {
			return ci
		}
	}
	return cat[len(cat)-1]
}
