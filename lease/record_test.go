package lease

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func validRecord() Record {
	at := time.Date(2026, 11, 27, 12, 0, 0, 123, time.UTC)
	return Record{
		Version:    FormatVersion,
		InstanceID: "0f3c",
		Epoch:      7,
		PID:        4242,
		Host:       "box",
		AcquiredAt: at,
		RenewedAt:  at.Add(time.Second),
		TTL:        2 * time.Second,
		Seq:        3,
		Meta:       map[string]string{"endpoint": "unix:///run/x.sock"},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	want := validRecord()
	b, err := EncodeRecord(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"instance_id"`, `"epoch"`, `"pid"`, `"host"`, `"acquired_at"`, `"renewed_at"`, `"ttl": "2s"`, `"meta"`, `"version"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("encoded record lacks %s:\n%s", key, b)
		}
	}
	got, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestDecodeRecordToleratesUnknownFields(t *testing.T) {
	b := []byte(`{"version":2,"instance_id":"x","epoch":3,"ttl":"1s","new_field":{"a":[1]}}`)
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Epoch != 3 || r.TTL != time.Second {
		t.Fatalf("decoded %+v", r)
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"truncated":    `{"version":1,"instance_id":"x","epo`,
		"not json":     "\x00\x01garbage",
		"no version":   `{"instance_id":"x","epoch":1,"ttl":"1s"}`,
		"no id":        `{"version":1,"epoch":1,"ttl":"1s"}`,
		"epoch zero":   `{"version":1,"instance_id":"x","epoch":0,"ttl":"1s"}`,
		"bad ttl":      `{"version":1,"instance_id":"x","epoch":1,"ttl":"soon"}`,
		"negative ttl": `{"version":1,"instance_id":"x","epoch":1,"ttl":"-1s"}`,
		"array":        `[1,2]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeRecord([]byte(in)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeRecord(%q) = %v, want ErrCorrupt", in, err)
			}
		})
	}
}

// FuzzDecodeRecord checks that no input makes the decoder panic, and that
// whatever it accepts survives a round trip through EncodeRecord.
func FuzzDecodeRecord(f *testing.F) {
	good, _ := EncodeRecord(validRecord())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte("null"))
	f.Add([]byte(`{"version":1,"instance_id":"x","epoch":18446744073709551615,"ttl":"9223372036s"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			return
		}
		enc, err := EncodeRecord(r)
		if err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
		again, err := DecodeRecord(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		a, _ := json.Marshal(r)
		c, _ := json.Marshal(again)
		if string(a) != string(c) {
			t.Fatalf("round trip changed the record:\n%s\n%s", a, c)
		}
	})
}
