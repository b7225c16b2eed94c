package netns

import "errors"

var (
	// ErrInvalidSpec is wrapped by every error about a malformed LabSpec.
	ErrInvalidSpec = errors.New("invalid lab spec")
	// ErrLabExists means a namespace of the lab already exists on the host.
	ErrLabExists = errors.New("lab already exists")
	// ErrNodeNotFound means a node name is not part of the lab.
	ErrNodeNotFound = errors.New("node not found")
	// ErrDestroyed means the lab was destroyed already.
	ErrDestroyed = errors.New("lab destroyed")
	// ErrLabNotFound means a namespace of the lab is missing from the host.
	ErrLabNotFound = errors.New("lab not found")
)
