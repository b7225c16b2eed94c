package bird

import (
	"context"
	"fmt"
	"strings"
)

// validName reports whether name is a plain BIRD symbol (letters, digits,
// '_'), the only form these helpers put on a command line unquoted.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ShowProtocols runs `show protocols` and parses its rows.
func (c *Client) ShowProtocols(ctx context.Context) ([]Protocol, error) {
	lines, err := c.Cmd(ctx, "show protocols")
	if err != nil {
		return nil, err
	}
	ps, err := ParseProtocols(strings.NewReader(Text(lines)))
	if err != nil {
		return nil, fmt.Errorf("bird: show protocols: %w", err)
	}
	return ps, nil
}

// ShowProtocolAll runs `show protocols all NAME` and parses the details.
func (c *Client) ShowProtocolAll(ctx context.Context, name string) (ProtocolDetail, error) {
	if !validName(name) {
		return ProtocolDetail{}, fmt.Errorf("bird: show protocols all: invalid protocol name %q", name)
	}
	lines, err := c.Cmd(ctx, "show protocols all "+name)
	if err != nil {
		return ProtocolDetail{}, err
	}
	d, err := ParseProtocolDetail(strings.NewReader(Text(lines)))
	if err != nil {
		return ProtocolDetail{}, fmt.Errorf("bird: show protocols all %s: %w", name, err)
	}
	return d, nil
}

// ShowRouteCount runs `show route count` and returns the number of routes
// in all tables.
func (c *Client) ShowRouteCount(ctx context.Context) (int, error) {
	lines, err := c.Cmd(ctx, "show route count")
	if err != nil {
		return 0, err
	}
	n, err := ParseRouteCount(strings.NewReader(Text(lines)))
	if err != nil {
		return 0, fmt.Errorf("bird: show route count: %w", err)
	}
	return n, nil
}

// Configure makes BIRD re-read its configuration file. A configuration
// error comes back as an *Error with code 8002.
func (c *Client) Configure(ctx context.Context) error {
	_, err := c.Cmd(ctx, "configure")
	return err
}

// ConfigureFile makes BIRD load the configuration in path instead of its
// current file.
func (c *Client) ConfigureFile(ctx context.Context, path string) error {
	if path == "" || strings.ContainsAny(path, "\"\r\n") {
		return fmt.Errorf("bird: configure: invalid path %q", path)
	}
	_, err := c.Cmd(ctx, `configure "`+path+`"`)
	return err
}

// Enable starts the protocol name; enabling an enabled protocol is not an error.
func (c *Client) Enable(ctx context.Context, name string) error {
	return c.toggle(ctx, "enable", name)
}

// Disable stops the protocol name; disabling a disabled protocol is not an error.
func (c *Client) Disable(ctx context.Context, name string) error {
	return c.toggle(ctx, "disable", name)
}

func (c *Client) toggle(ctx context.Context, verb, name string) error {
	if !validName(name) {
		return fmt.Errorf("bird: %s: invalid protocol name %q", verb, name)
	}
	_, err := c.Cmd(ctx, verb+" "+name)
	return err
}
