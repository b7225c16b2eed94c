package exercise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// Runner carries out lab operations for an exercise.
type Runner interface {
	// Up brings the topology in file up in the background.
	Up(ctx context.Context, file string) error
	// Exec runs argv in node of lab and returns its combined output;
	// a non-zero exit is an error wrapping *exec.ExitError.
	Exec(ctx context.Context, lab, node string, argv []string) (string, error)
	// Inject injects fault on node of lab (`peerlab fault LAB inject`).
	Inject(ctx context.Context, lab, fault, node string) error
	// Down tears lab down.
	Down(ctx context.Context, lab string) error
}

// BinaryRunner runs the peerlab binary at Path: `up -d`, `exec`, `down`.
type BinaryRunner struct {
	// Path is the peerlab executable.
	Path string
	// StateDir is passed as --state-dir when not empty.
	StateDir string
}

// run runs peerlab with args and returns its combined output.
func (r BinaryRunner) run(ctx context.Context, args ...string) (string, error) {
	if r.StateDir != "" {
		args = append([]string{args[0], "--state-dir", r.StateDir}, args[1:]...)
	}
	var out bytes.Buffer
	c := exec.CommandContext(ctx, r.Path, args...)
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

// Up runs `peerlab up -d FILE`.
func (r BinaryRunner) Up(ctx context.Context, file string) error {
	if out, err := r.run(ctx, "up", "-d", file); err != nil {
		return fmt.Errorf("peerlab up -d %s: %w: %s", file, err, out)
	}
	return nil
}

// Exec runs `peerlab exec LAB NODE -- ARGV...`.
func (r BinaryRunner) Exec(ctx context.Context, lab, node string, argv []string) (string, error) {
	out, err := r.run(ctx, append([]string{"exec", lab, node, "--"}, argv...)...)
	if err != nil {
		return out, fmt.Errorf("peerlab exec %s %s -- %v: %w", lab, node, argv, err)
	}
	return out, nil
}

// Inject runs `peerlab fault LAB inject FAULT --node NODE`.
func (r BinaryRunner) Inject(ctx context.Context, lab, fault, node string) error {
	if out, err := r.run(ctx, "fault", lab, "inject", fault, "--node", node); err != nil {
		return fmt.Errorf("peerlab fault %s inject %s --node %s: %w: %s", lab, fault, node, err, out)
	}
	return nil
}

// Down runs `peerlab down LAB`.
func (r BinaryRunner) Down(ctx context.Context, lab string) error {
	if out, err := r.run(ctx, "down", lab); err != nil {
		return fmt.Errorf("peerlab down %s: %w: %s", lab, err, out)
	}
	return nil
}

// exitCode is the exit status wrapped in err, or -1.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
