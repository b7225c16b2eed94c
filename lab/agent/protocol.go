package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// modulePath prefixes the packages whose types Protocol looks into: a
// type of this module may change shape between builds, a standard or
// dependency type (netip.Addr, time.Duration) is named as it is.
const modulePath = "github.com/peerlab/peerlab/"

// Hello is the argument of the first call a lab makes: the protocol it
// speaks (Protocol).
type Hello struct {
	Protocol string
}

// Protocol fingerprints the agent protocol this program speaks: every
// call's name, and the shape (field names, types and tags) of what it
// takes and returns. A lab and an agent built from different sources,
// say a peerlab-gobgpd left from an older build beside a new peerlab, tell
// so at the first call instead of misreading each other's values.
func Protocol() string { return protocolOnce() }

// protocolOnce computes Protocol on its first call: the lab asks it once
// per node it starts, each agent once.
var protocolOnce = sync.OnceValue(computeProtocol)

// computeProtocol describes the service's calls and hashes that.
func computeProtocol() string {
	var b strings.Builder
	t := reflect.TypeOf(&service{})
	for i := range t.NumMethod() {
		m := t.Method(i)
		fmt.Fprintf(&b, "%s(", m.Name)
		writeShape(&b, m.Type.In(1), map[reflect.Type]bool{})
		b.WriteString(")")
		writeShape(&b, m.Type.In(2), map[reflect.Type]bool{})
		b.WriteString(";")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// writeShape writes t's shape to b: a type of this module with its
// fields, any other named type by its name.
func writeShape(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) {
	if t.Name() != "" && !strings.HasPrefix(t.PkgPath(), modulePath) {
		b.WriteString(t.String())
		return
	}
	if seen[t] {
		b.WriteString(t.String())
		return
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		fmt.Fprintf(b, "%s%d[", t.Kind(), arrayLen(t))
		writeShape(b, t.Elem(), seen)
		b.WriteString("]")
	case reflect.Map:
		b.WriteString("map[")
		writeShape(b, t.Key(), seen)
		b.WriteString("]")
		writeShape(b, t.Elem(), seen)
	case reflect.Struct:
		fmt.Fprintf(b, "%s{", t.String())
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(b, "%s %q:", f.Name, f.Tag)
			writeShape(b, f.Type, seen)
			b.WriteString(",")
		}
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "%s(%s)", t.String(), t.Kind())
	}
}

// arrayLen is an array type's length, 0 for other types.
func arrayLen(t reflect.Type) int {
	if t.Kind() == reflect.Array {
		return t.Len()
	}
	return 0
}
