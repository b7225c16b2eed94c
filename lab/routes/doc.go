// Package routes builds the bulk route tables a lab speaker injects: routes
// generated from a prefix range with a chosen variety of attributes, and
// routes replayed from MRT TABLE_DUMP_V2 files (RFC 6396), read and written
// with GoBGP's pkg/packet/mrt. Both produce speaker.Route values that a
// speaker announces in one call, so GoBGP packs them into full UPDATEs.
//
// Attribute sets are shared between routes (one backing slice per distinct
// AS path or community list), so a million generated routes cost little
// more than their prefixes.
package routes
