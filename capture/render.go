package capture

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrUnknownRenderFormat is returned by Render for a format it does not know.
var ErrUnknownRenderFormat = errors.New("unknown render format")

// Formats lists the formats Render accepts.
var Formats = []string{"text", "json", "html"}

// Render writes tl in the given format: "text" (ladder diagram per
// session), "json" (stable field names, for tools) or "html" (a
// self-contained page with the ladders drawn as inline SVG).
func Render(w io.Writer, tl *Timeline, format string) error {
	var err error
	switch format {
	case "text":
		err = renderText(w, tl)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(tl)
	case "html":
		err = renderHTML(w, tl)
	default:
		return fmt.Errorf("capture: render %q (want text, json or html): %w", format, ErrUnknownRenderFormat)
	}
	if err != nil {
		return fmt.Errorf("capture: render %s: %w", format, err)
	}
	return nil
}
