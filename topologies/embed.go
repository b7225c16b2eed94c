// Package topologies holds the shipped labs (the *.yaml files of this
// folder) and the training exercises (exercises/NAME/{exercise,topology}.yaml),
// embedded into the peerlab binary so that they work from any folder.
// The folder is otherwise YAML only.
package topologies

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml exercises
var files embed.FS

// FS returns the shipped topologies and exercises, read-only: NAME.yaml at
// the root and exercises/NAME/ beneath.
func FS() fs.FS { return files }

// Exercises returns the shipped exercises: one folder per exercise.
func Exercises() fs.FS {
	sub, err := fs.Sub(files, "exercises")
	if err != nil {
		// fs.Sub fails only for an invalid path; "exercises" is valid.
		panic(err)
	}
	return sub
}
