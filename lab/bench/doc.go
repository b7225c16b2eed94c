// Package bench compares route injectors on the wire: `peerlab inject`
// (package speaker/inject, the table loaded before the session or
// announced in live batches), a BIRD 1.6 speaker, ExaBGP and, on request,
// peerlab's gobgp lab node each push the same N /24s into a fresh BIRD
// target in its own namespace lab, and Run reports, per injector, the time
// from the first TCP SYN (and from the first UPDATE carrying NLRI) until
// the target holds all N routes, the BGP UPDATE bytes captured on the
// target's eth0, prefixes per UPDATE, the injector's peak resident memory
// (VmHWM) and the target's `show memory` total.
package bench
