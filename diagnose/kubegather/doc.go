// Package kubegather diagnoses a whole Calico cluster from one kubeconfig:
// it reads, through the Kubernetes API and read-only, the nodes, the
// kube-system pods (calico-node, kubespray's nginx-proxy and haproxy
// static pods) with their events, Calico's crd.projectcalico.org/v1
// resources, and from each calico-node pod, by exec over WebSocket, BIRD's
// protocols, its rendered bird.cfg and calico-node's BIRD readiness, plus
// the tail of its log. Each piece becomes an artifact of the node its pod
// runs on, and the whole goes to the same engine as the artifacts mode
// (package diagnose), so findings name the node where the cause lies.
//
// Gathering is bounded: a limited number of pods at once, a timeout per
// API call and a total time limit. Nodes that do not answer leave the
// report partial, and its unknowns say which.
//
// The engine does not import this package: embedders that only read
// artifacts do not pull in client-go. This package reads core/v1 through a
// REST client of its own (CoreReader), not client-go's typed clientset:
// every lab node process is the peerlab binary, and the clientset would
// make each of them initialise the schemes of every Kubernetes API group.
package kubegather
