// Package graph draws a lab topology as a picture: nodes by kind and role,
// sessions as edges, and, for a running lab, each edge coloured by the state
// of its session with the last error attached. It renders Graphviz DOT,
// standalone SVG, Mermaid and an HTML page with the SVG inline; every
// renderer is deterministic, so its output can be compared to a golden file.
package graph
