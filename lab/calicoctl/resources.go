package calicoctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/peerlab/peerlab/lab/k8s"
)

// calicoctl get for Calico's BGP resources, read from the lab's API
// server (crd.projectcalico.org/v1) and printed as calicoctl prints them:
// tables with its columns, or YAML/JSON in projectcalico.org/v3.

// resourceKind is one kind calicoctl get knows.
type resourceKind struct {
	kind, plural string
	names        []string
	headings     []string
	wide         []string
	cell         func(o map[string]any, heading string) string
}

// kinds are the resources of `calicoctl get`, with calicoctl's names.
var kinds = []resourceKind{
	{kind: k8s.KindBGPConfiguration, plural: "bgpconfigurations",
		names:    []string{"bgpconfiguration", "bgpconfigurations", "bgpconfig", "bgpconfigs"},
		headings: []string{"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
		wide:     []string{"NAME", "LOGSEVERITY", "MESHENABLED", "ASNUMBER"},
		cell: func(o map[string]any, h string) string {
			spec, _ := o["spec"].(map[string]any)
			switch h {
			case "LOGSEVERITY":
				return str(spec["logSeverityScreen"])
			case "MESHENABLED":
				return orDash(spec["nodeToNodeMeshEnabled"])
			case "ASNUMBER":
				return orDash(spec["asNumber"])
			}
			return name(o)
		}},
	{kind: k8s.KindBGPPeer, plural: "bgppeers",
		names:    []string{"bgppeer", "bgppeers", "bgpp", "bgpps", "bp", "bps"},
		headings: []string{"NAME", "PEERIP", "NODE", "ASN"},
		wide:     []string{"NAME", "PEERIP", "NODE", "ASN"},
		cell: func(o map[string]any, h string) string {
			spec, _ := o["spec"].(map[string]any)
			switch h {
			case "PEERIP":
				return str(spec["peerIP"])
			case "NODE":
				if n := str(spec["node"]); n != "" {
					return n
				}
				if s := str(spec["nodeSelector"]); s != "" {
					return s
				}
				return "(global)"
			case "ASN":
				if spec["asNumber"] == nil {
					return "0"
				}
				return str(spec["asNumber"])
			}
			return name(o)
		}},
	{kind: k8s.KindCalicoNode, plural: "nodes",
		names:    []string{"node", "nodes", "no"},
		headings: []string{"NAME"},
		wide:     []string{"NAME", "ASN", "IPV4", "IPV6"},
		cell: func(o map[string]any, h string) string {
			spec, _ := o["spec"].(map[string]any)
			bgp, _ := spec["bgp"].(map[string]any)
			switch h {
			case "ASN":
				if bgp == nil {
					return ""
				}
				if bgp["asNumber"] == nil {
					return fmt.Sprintf("(%d)", k8s.DefaultASN)
				}
				return str(bgp["asNumber"])
			case "IPV4":
				return str(bgp["ipv4Address"])
			case "IPV6":
				return str(bgp["ipv6Address"])
			}
			return name(o)
		}},
}

// findKind is the kind calicoctl calls s.
func findKind(s string) (resourceKind, bool) {
	for _, k := range kinds {
		for _, n := range k.names {
			if strings.EqualFold(n, s) {
				return k, true
			}
		}
	}
	return resourceKind{}, false
}

// getResources is `calicoctl get KIND [NAME] [-o wide|yaml|json]`.
func getResources(ctx context.Context, w io.Writer, k resourceKind, only, output string) error {
	items, err := fetchItems(ctx, k)
	if err != nil {
		return err
	}
	if only != "" {
		var kept []map[string]any
		for _, o := range items {
			if name(o) == only {
				kept = append(kept, o)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("resource does not exist: %s(%s) with error: %s.%s %q not found", k.kind, only, k.plural, k8s.CalicoGroup, only)
		}
		items = kept
	}
	for _, o := range items {
		v3(o)
	}
	switch output {
	case "yaml", "json":
		var v any = map[string]any{"apiVersion": k8s.CalicoctlAPIVersion, "kind": k.kind + "List", "items": items,
			"metadata": map[string]any{"resourceVersion": ""}}
		if only != "" {
			v = items[0]
		}
		if output == "json" {
			data, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s\n", data)
			return err
		}
		// Two spaces, lists not indented under their key: calicoctl's layout.
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		enc.CompactSeqIndent()
		if err := enc.Encode(v); err != nil {
			return err
		}
		return enc.Close()
	case "", "ps", "wide":
	default:
		return fmt.Errorf("unrecognized output type %q (the lab's calicoctl prints ps, wide, yaml, json)", output)
	}
	headings := k.headings
	if output == "wide" {
		headings = k.wide
	}
	tw := tabwriter.NewWriter(w, 5, 1, 3, ' ', 0)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(headings, "\t"))
	for _, o := range items {
		cells := make([]string, len(headings))
		for i, h := range headings {
			cells[i] = k.cell(o, h)
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// v3 turns a crd.projectcalico.org/v1 object into calicoctl's
// projectcalico.org/v3 form: the apiVersion, without kubectl's
// last-applied annotation.
func v3(o map[string]any) {
	o["apiVersion"] = k8s.CalicoctlAPIVersion
	md, _ := o["metadata"].(map[string]any)
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
}

// fetchItems lists k's objects from the API server of $KUBECONFIG.
func fetchItems(ctx context.Context, k resourceKind) ([]map[string]any, error) {
	body, err := apiGet(ctx, "/apis/"+k8s.CalicoAPIVersion+"/"+k.plural)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k.plural, err)
	}
	return list.Items, nil
}

// apiGet reads path from the API server $KUBECONFIG names.
func apiGet(ctx context.Context, path string) ([]byte, error) {
	kpath := os.Getenv("KUBECONFIG")
	if kpath == "" {
		return nil, errors.New("Failed to create Calico API client: KUBECONFIG is not set (the lab's nodes set it to " + k8s.KubeconfigPath + ")")
	}
	data, err := os.ReadFile(kpath)
	if err != nil {
		return nil, fmt.Errorf("Failed to create Calico API client: %w", err)
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return nil, fmt.Errorf("Failed to create Calico API client: %s: %w", kpath, err)
	}
	server, tlsConf, err := kc.client()
	if err != nil {
		return nil, fmt.Errorf("Failed to create Calico API client: %s: %w", kpath, err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("connection is unauthorized or the API server is unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s%s: %s", server, path, resp.Status)
	}
	return body, nil
}

// name is an object's metadata.name.
func name(o map[string]any) string {
	md, _ := o["metadata"].(map[string]any)
	return str(md["name"])
}

// str prints a JSON value as calicoctl's templates do.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprintf("%d", int64(x))
	default:
		return fmt.Sprint(x)
	}
}

// orDash is v, or "-" when unset (calicoctl's `{{if …}}…{{else}}-{{end}}`).
func orDash(v any) string {
	if v == nil {
		return "-"
	}
	return str(v)
}
