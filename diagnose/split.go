package diagnose

import (
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// A paste often holds several outputs one after another: a
// `$ calicoctl node status` block, then `birdc show protocols`, then log
// lines, or a Markdown message with ``` fences. splitPaste cuts such an
// input into pieces at the boundaries a person or a terminal leaves
// between outputs, so each piece can be recognised on its own:
//
//   - Markdown code fences (``` or ~~~, with or without a language);
//     lines wrapped one by one in inline code (`...`) are unwrapped;
//   - shell prompts: "$ cmd", "# cmd" naming a known command,
//     "root@node1:~# cmd", "[root@node1 ~]# cmd", "node1$ cmd", "bird> cmd";
//   - the first line of an output whose beginning is unmistakable:
//     "Calico process is running.", "calico-node container is running.",
//     "BIRD 1.6.8 ready.", BIRD's "name proto table state" heading,
//     kubectl's "NAME READY STATUS" and "NAME STATUS ROLES" headings,
//     ss's "State Recv-Q" heading.
//
// Fences and prompts are dropped (a piece keeps the prompt that opened
// it, whose host names the node: see promptHost); headings open the next
// piece. A heading
// right after another boundary opens nothing new (a prompt followed by its
// output's heading is one piece). The work is one pass over the lines.

// piece is one part of a split input.
type piece struct {
	lines []string
	// prompt is the shell prompt line that opened the piece, if any.
	prompt string
}

func (p piece) data() []byte { return []byte(strings.Join(p.lines, "\n") + "\n") }

// content reports whether the piece has a non-blank line.
func (p piece) content() bool {
	for _, l := range p.lines {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

var (
	// promptRE matches "user@host:~# cmd", "[user@host dir]$ cmd",
	// "host$ cmd" (a word, then the prompt character, then a space).
	promptRE = lazy.Regexp(`^(\[[^\]\s]+(\s[^\]]*)?\]|[A-Za-z0-9_.\-]+@[A-Za-z0-9_.\-]+(:[^\s#$]*)?|[A-Za-z0-9_.\-]+)\s?[#$%] +\S`)
	// promptCommands are commands a "# cmd" or "$ cmd" line must run to be
	// a prompt rather than a comment ("# For peer ..." in bird.cfg).
	promptCommands = []string{"calicoctl", "birdc", "birdcl", "kubectl", "ss", "netstat", "ip", "cat", "tail", "head",
		"grep", "journalctl", "dmesg", "docker", "crictl", "sudo", "ifconfig", "oc",
		"tcpdump", "iptables", "nft", "vtysh", "gobgp", "systemctl"}
)

// isFence reports whether t is a Markdown code fence line.
func isFence(t string) bool {
	return strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")
}

// isPrompt reports whether t is a shell (or birdc) prompt line with a
// command after it.
func isPrompt(t string) bool {
	if strings.HasPrefix(t, "bird>") {
		return true
	}
	for _, p := range []string{"$ ", "# ", "% ", "> "} {
		if rest, ok := strings.CutPrefix(t, p); ok {
			return knownCommand(rest)
		}
	}
	if !promptRE().MatchString(t) {
		return false
	}
	// Bare "word$ cmd" must run a known command; "user@host..." and
	// "[...]#" forms are prompts whatever they run.
	if strings.HasPrefix(t, "[") || strings.Contains(strings.Fields(t)[0], "@") {
		return true
	}
	i := strings.IndexAny(t, "#$%")
	return i >= 0 && knownCommand(strings.TrimSpace(t[i+1:]))
}

func knownCommand(rest string) bool {
	f := strings.Fields(rest)
	if len(f) == 0 {
		return false
	}
	cmd := f[0]
	if i := strings.LastIndexByte(cmd, '/'); i >= 0 {
		cmd = cmd[i+1:]
	}
	if cmd == "ip" {
		// "# ip address of the master" is a comment; "# ip -4 addr" a prompt.
		for _, w := range f[2:] {
			if containsStr([]string{"of", "the", "is", "for", "to", "and", "which"}, strings.ToLower(w)) {
				return false
			}
		}
		return len(f) > 1 && (strings.HasPrefix(f[1], "-") || containsStr([]string{"a", "addr", "address", "r", "route", "link", "l", "neigh", "n", "rule"}, f[1]))
	}
	return containsStr(promptCommands, cmd)
}

// isHeading reports whether t is the first line of an output that can
// only start there.
func isHeading(t string) bool {
	switch {
	case t == "Calico process is running.", t == "Calico process is not running.",
		strings.HasPrefix(t, "calico-node container is running."), t == "calico-node container not running":
		return true
	case strings.HasPrefix(t, "BIRD ") && strings.HasSuffix(t, " ready."):
		return true
	}
	f := strings.Fields(strings.ToLower(stripBirdCode(t)))
	switch {
	case len(f) >= 4 && f[0] == "name" && f[1] == "proto" && f[2] == "table" && f[3] == "state":
		return true
	case len(f) >= 3 && f[0] == "name" && (f[1] == "ready" || f[1] == "status") && (f[2] == "status" || f[2] == "roles"):
		return true
	case len(f) >= 3 && f[0] == "namespace" && f[1] == "name" && f[2] == "ready":
		return true
	case len(f) >= 4 && (f[0] == "state" || f[0] == "netid") && strings.Contains(t, "Local Address"):
		return true
	}
	return false
}

// unwrapInlineCode drops the backticks of lines a person wrapped one by
// one in Markdown inline code instead of a code block
// ("`| 10.239.129.82 | node-to-node mesh | start | ... |`"), keeping the
// indentation; fences ("```") are left to splitPaste.
func unwrapInlineCode(lines []string) []string {
	out := lines
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if len(t) < 3 || t[0] != '`' || t[len(t)-1] != '`' || strings.HasPrefix(t, "``") || strings.Count(t, "`") != 2 {
			continue
		}
		if &out[0] == &lines[0] {
			out = append([]string(nil), lines...)
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		out[i] = lead + t[1:len(t)-1]
	}
	return out
}

// splitPaste cuts lines into pieces; an input without boundaries is one
// piece. Lines wrapped in inline-code backticks are unwrapped first.
func splitPaste(lines []string) []piece {
	lines = unwrapInlineCode(lines)
	var (
		out      []piece
		cur      piece
		boundary = true // at the start, a heading opens nothing new
	)
	flush := func() {
		if cur.content() {
			out = append(out, cur)
		}
		// A heading inside one command's output keeps its prompt.
		cur = piece{prompt: cur.prompt}
	}
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case isFence(t):
			flush()
			cur.prompt = ""
			boundary = true
			continue
		case isPrompt(t):
			flush()
			cur.prompt = t
			boundary = true
			continue
		case isHeading(t):
			if !boundary && !onlyHeadings(cur) {
				flush()
			}
			boundary = true
		case t != "":
			boundary = false
		}
		cur.lines = append(cur.lines, l)
	}
	flush()
	return out
}

// onlyHeadings reports whether every non-blank line of p is a heading
// (BIRD's "ready." line before its table heading).
func onlyHeadings(p piece) bool {
	for _, l := range p.lines {
		if t := strings.TrimSpace(l); t != "" && !isHeading(t) {
			return false
		}
	}
	return true
}

// localPromptRE is a prompt naming user and host: "root@node1:~# cmd",
// "[root@node1 ~]$ cmd".
var localPromptRE = lazy.Regexp(`^\[?[A-Za-z0-9_.\-]+@([A-Za-z0-9][A-Za-z0-9_.\-]*)[:\s\]]`)

// promptHost returns the host a prompt line names when its command
// reports on that host (calicoctl node status, birdc, ip, ss, a log):
// commands that ask the cluster (kubectl, calicoctl get) may run anywhere.
func promptHost(prompt string) string {
	m := localPromptRE().FindStringSubmatch(prompt)
	if m == nil {
		return ""
	}
	i := strings.IndexAny(prompt, "#$%")
	if i < 0 {
		return ""
	}
	f := strings.Fields(prompt[i+1:])
	for len(f) > 0 && (f[0] == "sudo" || strings.Contains(f[0], "=")) {
		f = f[1:] // sudo, VAR=value
	}
	if len(f) == 0 {
		return ""
	}
	name := f[0]
	if j := strings.LastIndexByte(name, '/'); j >= 0 {
		name = name[j+1:]
	}
	switch name {
	case "kubectl", "oc", "helm", "etcdctl", "k":
		return ""
	case "calicoctl":
		if len(f) > 1 && f[1] != "node" && f[1] != "status" {
			return ""
		}
	}
	return m[1]
}
