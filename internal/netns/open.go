package netns

import (
	"errors"
	"fmt"
	"os"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Open returns a Lab for the namespaces that an earlier [Create] with the
// same spec made, possibly in another process (a detached lab). It creates
// nothing; it fails with ErrLabNotFound if the hub or a node namespace is
// missing. The spec's addresses, links and routes are not checked against
// the host. A nil log logs nothing.
func Open(spec LabSpec, log *zap.Logger) (*Lab, error) {
	if log == nil {
		log = zap.NewNop()
	}
	p, err := spec.validate()
	if err != nil {
		return nil, err
	}
	l := &Lab{name: p.name, log: log.With(zap.String("lab", p.name)), nodes: make(map[string]*labNode, len(p.nodes))}
	fail := func(err error) (*Lab, error) {
		l.closeHandles()
		return nil, fmt.Errorf("open lab %s: %w", p.name, err)
	}
	if l.hub, err = openNamed(p.hub); err != nil {
		return fail(err)
	}
	for _, pn := range p.nodes {
		ns, err := openNamed(pn.ns)
		if err != nil {
			return fail(fmt.Errorf("node %s: %w", pn.spec.Name, err))
		}
		l.nodes[pn.spec.Name] = &labNode{name: pn.spec.Name, ns: pn.ns, h: ns}
		l.order = append(l.order, pn.spec.Name)
	}
	return l, nil
}

// openNamed opens the existing namespace name and a rtnetlink socket in it.
func openNamed(name string) (namedNS, error) {
	if _, ok := nsInode(nsPath(name)); !ok {
		return namedNS{}, fmt.Errorf("%w: no namespace mounted at %s", ErrLabNotFound, nsPath(name))
	}
	fd, err := netns.GetFromName(name)
	if errors.Is(err, os.ErrNotExist) {
		return namedNS{}, fmt.Errorf("%w: %s", ErrLabNotFound, name)
	}
	if err != nil {
		return namedNS{}, fmt.Errorf("open namespace %s: %w", name, err)
	}
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		fd.Close()
		return namedNS{}, fmt.Errorf("netlink in %s: %w", name, err)
	}
	return namedNS{fd: fd, nl: h}, nil
}
