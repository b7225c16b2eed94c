package k8s

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestStoreVersionsAndWatch: every write takes the next resourceVersion,
// a stale one is a conflict, and a watcher sees each change in order.
func TestStoreVersionsAndWatch(t *testing.T) {
	s := NewStore()
	events, stop := s.Watch(KindBGPPeer, "")
	defer stop()
	created, err := s.Create(KindBGPPeer, "", obj{"metadata": obj{"name": "tor"}, "spec": obj{"asNumber": 65000}})
	if err != nil {
		t.Fatal(err)
	}
	rv1 := metadataOf(created)["resourceVersion"]
	if _, err := s.Create(KindBGPPeer, "", obj{"metadata": obj{"name": "tor"}}); !errors.Is(err, ErrExists) {
		t.Errorf("second create = %v, want ErrExists", err)
	}
	upd := deepCopy(created)
	upd["spec"] = obj{"asNumber": 65001}
	updated, err := s.Update(KindBGPPeer, "", upd)
	if err != nil {
		t.Fatal(err)
	}
	if rv2 := metadataOf(updated)["resourceVersion"]; rv2 == rv1 {
		t.Errorf("update kept resourceVersion %v", rv1)
	}
	if _, err := s.Update(KindBGPPeer, "", upd); !errors.Is(err, ErrConflict) {
		t.Errorf("update with stale resourceVersion = %v, want ErrConflict", err)
	}
	if _, err := s.Delete(KindBGPPeer, "", "tor"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(KindBGPPeer, "", "tor"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete = %v, want ErrNotFound", err)
	}
	for _, want := range []string{"ADDED", "MODIFIED", "DELETED"} {
		select {
		case ev := <-events:
			if ev.Type != want || objectName(ev.Object) != "tor" {
				t.Errorf("event %s %s, want %s tor", ev.Type, objectName(ev.Object), want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s event", want)
		}
	}
}

func TestMergeAndJSONPatch(t *testing.T) {
	cur := obj{"metadata": obj{"name": "tor", "labels": obj{"a": "1"}}, "spec": obj{"asNumber": 1.0, "node": "w1"}}
	got := mergePatch(cur, obj{"spec": obj{"asNumber": 2.0, "node": nil}, "metadata": obj{"labels": obj{"b": "2"}}})
	want := obj{"metadata": obj{"name": "tor", "labels": obj{"a": "1", "b": "2"}}, "spec": obj{"asNumber": 2.0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge patch = %v, want %v", got, want)
	}
	got, err := jsonPatch(cur, []byte(`[{"op":"replace","path":"/spec/asNumber","value":3},{"op":"remove","path":"/spec/node"},{"op":"add","path":"/metadata/labels/c","value":"3"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want = obj{"metadata": obj{"name": "tor", "labels": obj{"a": "1", "c": "3"}}, "spec": obj{"asNumber": 3.0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("json patch = %v, want %v", got, want)
	}
	if _, err := jsonPatch(cur, []byte(`[{"op":"replace","path":"/spec/missing","value":3}]`)); err == nil {
		t.Error("json patch replacing a missing field succeeded")
	}
}
