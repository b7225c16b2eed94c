// Package inject is a send-mostly BGP speaker for bulk tables: the part
// of a lab that stands in for an upstream pushing a full Internet table.
//
// It speaks BGP-4 (RFC 4271) with GoBGP's message codec for OPEN and
// NOTIFICATION, but keeps no RIB. Its table is a journal of UPDATE
// messages packed once, when routes are loaded or announced: routes that
// share their attributes share an UPDATE, filled up to 4,096 bytes
// (about 800 /24s with minimal attributes). Every session replays the
// journal from the start when it reaches Established and then follows
// it, so a table costs its wire size in memory (about 4 MB for a million
// /24s) and leaves at the speed the peer reads it.
//
// What it leaves out, on purpose: best-path selection, policies,
// route refresh, add-path, graceful restart (it sends End-of-RIB, that
// is all) and TCP MD5. Routes received from peers are counted and
// dropped. For a full speaker use package speaker.
package inject
