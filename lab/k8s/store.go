package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Store holds the objects the stand-in lets clients write: Calico's
// crd.projectcalico.org/v1 resources and kube-system Secrets. Objects are
// JSON values kept as written (so kubectl's annotations survive), each with
// a resourceVersion from one counter, and every change is sent to the
// watchers of its kind.
type Store struct {
	mu       sync.Mutex
	rv       uint64
	objects  map[storeKey]obj
	watchers map[int]*watcher
	nextID   int
}

// storeKey names one object.
type storeKey struct{ kind, namespace, name string }

// WatchEvent is one event of a watch stream, as the API server sends it.
type WatchEvent struct {
	Type   string `json:"type"` // ADDED, MODIFIED, DELETED
	Object obj    `json:"object"`
}

// watcher receives the events of one kind (and namespace, if set).
type watcher struct {
	kind, namespace string
	ch              chan WatchEvent
}

// Errors of Store operations; the routes turn them into Status codes.
var (
	// ErrNotFound is an object that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists is a create of an object that exists.
	ErrExists = errors.New("already exists")
	// ErrConflict is an update naming a stale resourceVersion.
	ErrConflict = errors.New("the object has been modified; please apply your changes to the latest version and try again")
)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{objects: map[storeKey]obj{}, watchers: map[int]*watcher{}}
}

// ResourceVersion is the store's current resourceVersion.
func (s *Store) ResourceVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatUint(s.rv, 10)
}

// List returns copies of the objects of kind in namespace ("" for all),
// ordered by namespace and name.
func (s *Store) List(kind, namespace string) []obj {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []storeKey
	for k := range s.objects {
		if k.kind == kind && (namespace == "" || k.namespace == namespace) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b storeKey) int {
		if a.namespace != b.namespace {
			if a.namespace < b.namespace {
				return -1
			}
			return 1
		}
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	out := make([]obj, 0, len(keys))
	for _, k := range keys {
		out = append(out, deepCopy(s.objects[k]))
	}
	return out
}

// Get returns a copy of one object.
func (s *Store) Get(kind, namespace, name string) (obj, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[storeKey{kind, namespace, name}]
	if !ok {
		return nil, ErrNotFound
	}
	return deepCopy(o), nil
}

// Create adds o (its metadata.name is the name) and returns it as stored.
func (s *Store) Create(kind, namespace string, o obj) (obj, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o = deepCopy(o)
	name := objectName(o)
	k := storeKey{kind, namespace, name}
	if _, ok := s.objects[k]; ok {
		return nil, ErrExists
	}
	md := metadataOf(o)
	md["uid"] = uid(kind, namespace+"/"+name+"/"+strconv.FormatUint(s.rv+1, 10))
	md["creationTimestamp"] = ts(time.Now())
	if namespace != "" {
		md["namespace"] = namespace
	}
	return s.put(k, o, "ADDED"), nil
}

// Update replaces an existing object; a resourceVersion in o must be the
// stored one.
func (s *Store) Update(kind, namespace string, o obj) (obj, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o = deepCopy(o)
	k := storeKey{kind, namespace, objectName(o)}
	old, ok := s.objects[k]
	if !ok {
		return nil, ErrNotFound
	}
	md, oldMD := metadataOf(o), metadataOf(old)
	if rv, _ := md["resourceVersion"].(string); rv != "" && rv != oldMD["resourceVersion"] {
		return nil, ErrConflict
	}
	md["uid"], md["creationTimestamp"] = oldMD["uid"], oldMD["creationTimestamp"]
	if namespace != "" {
		md["namespace"] = namespace
	}
	return s.put(k, o, "MODIFIED"), nil
}

// Delete removes an object and returns it as it was.
func (s *Store) Delete(kind, namespace, name string) (obj, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := storeKey{kind, namespace, name}
	o, ok := s.objects[k]
	if !ok {
		return nil, ErrNotFound
	}
	delete(s.objects, k)
	s.rv++
	metadataOf(o)["resourceVersion"] = strconv.FormatUint(s.rv, 10)
	s.notify(k, WatchEvent{Type: "DELETED", Object: deepCopy(o)})
	return o, nil
}

// put stores o under k with the next resourceVersion and tells the
// watchers. s.mu is held.
func (s *Store) put(k storeKey, o obj, event string) obj {
	s.rv++
	metadataOf(o)["resourceVersion"] = strconv.FormatUint(s.rv, 10)
	s.objects[k] = o
	s.notify(k, WatchEvent{Type: event, Object: deepCopy(o)})
	return deepCopy(o)
}

// notify sends ev to the watchers of k's kind; a watcher that does not keep
// up is dropped (its channel closes), as the API server ends slow watches.
func (s *Store) notify(k storeKey, ev WatchEvent) {
	for id, w := range s.watchers {
		if w.kind != k.kind || (w.namespace != "" && w.namespace != k.namespace) {
			continue
		}
		select {
		case w.ch <- ev:
		default:
			close(w.ch)
			delete(s.watchers, id)
		}
	}
}

// Watch returns the events of kind in namespace ("" for all) from now on,
// and a function that ends the watch. The channel closes when the watch
// ends.
func (s *Store) Watch(kind, namespace string) (<-chan WatchEvent, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	w := &watcher{kind: kind, namespace: namespace, ch: make(chan WatchEvent, 256)}
	s.watchers[id] = w
	return w.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.watchers[id]; ok {
			close(w.ch)
			delete(s.watchers, id)
		}
	}
}

// objectName is o's metadata.name.
func objectName(o obj) string {
	n, _ := metadataOf(o)["name"].(string)
	return n
}

// metadataOf returns o's metadata map, adding an empty one if needed.
func metadataOf(o obj) obj {
	md, ok := o["metadata"].(map[string]any)
	if !ok {
		md = obj{}
		o["metadata"] = md
	}
	return md
}

// deepCopy copies a JSON value.
func deepCopy(o obj) obj {
	out := make(obj, len(o))
	for k, v := range o {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopy(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	default:
		return x
	}
}

// toObj converts a typed value to a JSON object.
func toObj(v any) (obj, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	var o obj
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	return o, nil
}

// mergePatch applies an RFC 7386 JSON merge patch to target.
func mergePatch(target obj, patch obj) obj {
	out := maps.Clone(target)
	if out == nil {
		out = obj{}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			tm, _ := out[k].(map[string]any)
			out[k] = mergePatch(tm, pm)
			continue
		}
		out[k] = copyValue(v)
	}
	return out
}

// Seed stores a typed resource (BGPConfiguration, BGPPeer, CalicoNode,
// Secret) as the lab starts.
func (s *Store) Seed(v any) error {
	o, err := toObj(v)
	if err != nil {
		return err
	}
	kind, _ := o["kind"].(string)
	ns, _ := metadataOf(o)["namespace"].(string)
	if err := validateObject(kind, o); err != nil {
		return fmt.Errorf("%s %s: %w", kind, objectName(o), err)
	}
	_, err = s.Create(kind, ns, o)
	return err
}
