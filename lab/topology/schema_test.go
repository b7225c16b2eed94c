package topology

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// TestSchemaMatchesFormat keeps docs/topology.schema.json in step with the
// format: every mapping in the schema allows exactly the keys the loader
// decodes.
func TestSchemaMatchesFormat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "topology.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", schema["$schema"])
	}
	defs := schema["$defs"].(map[string]any)
	def := func(name string) map[string]any { return defs[name].(map[string]any) }
	nodePrefixObject := def("node")["properties"].(map[string]any)["prefixes"].(map[string]any)["items"].(map[string]any)["anyOf"].([]any)[1].(map[string]any)
	tests := []struct {
		name   string
		schema map[string]any
		raw    any
	}{
		{"top level", schema, rawTopology{}},
		{"defaults", schema["properties"].(map[string]any)["defaults"].(map[string]any), rawDefaults{}},
		{"node", def("node"), rawNode{}},
		{"timers", def("timers"), rawTimers{}},
		{"prefix", nodePrefixObject, rawPrefix{}},
		{"route source", def("routeSource"), rawRoutes{}},
		{"peering", def("peering"), rawPeering{}},
		{"expectation", def("expectation"), rawExpect{}},
		{"fault", def("fault"), rawFault{}},
		{"link", def("link"), rawLink{}},
		{"calico", def("calico"), rawCalico{}},
		{"calico bgpconfiguration", def("calicoBGPConfiguration"), rawCalicoConfig{}},
		{"calico bgppeer", def("calicoBGPPeer"), rawCalicoPeer{}},
		{"calico node", def("calicoNode"), rawCalicoNode{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := schemaKeys(tt.schema)
			want := tagsOf(reflect.TypeOf(tt.raw))
			if !slices.Equal(got, want) {
				t.Errorf("schema keys %v, loader keys %v", got, want)
			}
		})
	}
}

// TestSchemaFaults keeps the schema's fault catalogue and per-fault params
// in step with FaultNames and the loader's rules.
func TestSchemaFaults(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "topology.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs struct {
			FaultName struct {
				Enum []string `json:"enum"`
			} `json:"faultName"`
			Fault struct {
				Properties struct {
					Params struct {
						Properties map[string]any `json:"properties"`
					} `json:"params"`
				} `json:"properties"`
				AllOf []struct {
					If struct {
						Properties struct {
							Fault struct {
								Const string   `json:"const"`
								Enum  []string `json:"enum"`
							} `json:"fault"`
						} `json:"properties"`
					} `json:"if"`
					Then struct {
						Properties struct {
							Params struct {
								MaxProperties *int `json:"maxProperties"`
								PropertyNames struct {
									Enum []string `json:"enum"`
								} `json:"propertyNames"`
							} `json:"params"`
						} `json:"properties"`
					} `json:"then"`
				} `json:"allOf"`
			} `json:"fault"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	if got, want := schema.Defs.FaultName.Enum, FaultNames(); !slices.Equal(got, want) {
		t.Errorf("schema fault names %v, FaultNames() %v", got, want)
	}
	rules := faultRules()
	var allParams []string
	for _, r := range rules {
		for _, p := range r.params {
			if !slices.Contains(allParams, p) {
				allParams = append(allParams, p)
			}
		}
	}
	slices.Sort(allParams)
	if got := slices.Sorted(maps.Keys(schema.Defs.Fault.Properties.Params.Properties)); !slices.Equal(got, allParams) {
		t.Errorf("schema params %v, loader params %v", got, allParams)
	}
	seen := map[string]bool{}
	for _, branch := range schema.Defs.Fault.AllOf {
		names := branch.If.Properties.Fault.Enum
		if c := branch.If.Properties.Fault.Const; c != "" {
			names = append(names, c)
		}
		params := branch.Then.Properties.Params
		for _, name := range names {
			seen[name] = true
			rule, ok := rules[name]
			switch {
			case !ok:
				t.Errorf("schema has params for unknown fault %q", name)
			case len(rule.params) == 0 && (params.MaxProperties == nil || *params.MaxProperties != 0):
				t.Errorf("%s takes no params, but the schema does not say maxProperties: 0", name)
			case len(rule.params) > 0 && !slices.Equal(params.PropertyNames.Enum, rule.params):
				t.Errorf("%s: schema allows params %v, loader %v", name, params.PropertyNames.Enum, rule.params)
			}
		}
	}
	for _, name := range FaultNames() {
		if !seen[name] {
			t.Errorf("schema does not say which params %s takes", name)
		}
	}
}

// schemaKeys lists the property names an object schema declares, including
// those of its oneOf branches.
func schemaKeys(s map[string]any) []string {
	var keys []string
	add := func(props any) {
		for k := range props.(map[string]any) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if p, ok := s["properties"]; ok {
		add(p)
	}
	if branches, ok := s["oneOf"].([]any); ok {
		for _, b := range branches {
			if p, ok := b.(map[string]any)["properties"]; ok {
				add(p)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func tagsOf(t reflect.Type) []string {
	var tags []string
	for i := range t.NumField() {
		tags = append(tags, t.Field(i).Tag.Get("yaml"))
	}
	slices.Sort(tags)
	return tags
}
