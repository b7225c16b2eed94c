package topology

import (
	"encoding/json"
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
		{"peering", def("peering"), rawPeering{}},
		{"expectation", def("expectation"), rawExpect{}},
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
		tags = append(tags, t.Field(i).Tag.Get("mapstructure"))
	}
	slices.Sort(tags)
	return tags
}
