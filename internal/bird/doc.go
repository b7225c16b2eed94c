// Package bird talks to and about real BIRD routing daemons, the BGP speaker
// Calico runs on every node.
//
// It has three parts that the lab harness and the diagnosis engine share:
//
//   - a client for BIRD's control socket (Dial, Client), so Go code can
//     query and steer a running bird without shelling out to birdc;
//   - tolerant parsers for `show protocols` and `show protocols all` output
//     of BIRD 1.6 and BIRD 2.x (ParseProtocols, ParseProtocolDetails), which
//     accept raw socket replies, birdc output with or without -v, and text
//     pasted by a person;
//   - RenderConfig, which writes a bird.cfg the way Calico's confd templates
//     do, for BIRD 1.6 or BIRD 2, and Daemon, which runs a bird on it.
package bird
