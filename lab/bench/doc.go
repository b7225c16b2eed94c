// Package bench compares route injectors on the wire: peerlab's gobgp
// node, a BIRD 1.6 speaker and ExaBGP each push the same N /24s into a
// fresh BIRD target in its own namespace lab, and Run reports, per
// injector, the time from the first TCP SYN until the target holds all N
// routes, the BGP UPDATE bytes captured on the target's eth0, prefixes per
// UPDATE and the injector's peak resident memory (VmHWM).
package bench
