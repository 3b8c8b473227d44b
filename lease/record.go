package lease

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"
)

// FormatVersion is the version of the record format this package writes.
// Records of a later version are read as long as the fields this version
// needs are present and valid; unknown fields are ignored.
const FormatVersion = 1

// MaxEpoch is the highest valid epoch; a record claiming more is corrupt,
// so that the next epoch can always be counted.
const MaxEpoch = 1 << 62

// ErrCorrupt is returned (wrapped) by DecodeRecord for bytes that are not a
// valid record: empty, truncated, not JSON, or missing a required field.
var ErrCorrupt = errors.New("lease: corrupt record")

// Record describes one holder of a lease. It is what the file at the lease
// path holds, as indented JSON a person can read.
//
// The times are the holder's wall-clock readings and are informational:
// no decision about expiry is taken from them (see the package comment).
type Record struct {
	// Version is the record format version (FormatVersion when written).
	Version int
	// InstanceID identifies the holder; unique per Join.
	InstanceID string
	// Epoch is the fencing token of this holder's tenure: strictly greater
	// than every epoch issued before it at the same lease.
	Epoch uint64
	// PID and Host identify the holder's process.
	PID  int
	Host string
	// AcquiredAt is when the tenure began; RenewedAt the last renewal.
	AcquiredAt time.Time
	RenewedAt  time.Time
	// TTL is the holder's lease duration.
	TTL time.Duration
	// Seq counts the holder's publications of the record in this tenure.
	Seq uint64
	// Released is set when the holder gave the lease up.
	Released bool
	// Meta holds what the holder advertises (an endpoint, a backend).
	Meta map[string]string
}

// wireRecord is the JSON form of Record. TTL is a duration string ("2s") so
// that the file reads well.
type wireRecord struct {
	Version    int               `json:"version"`
	InstanceID string            `json:"instance_id"`
	Epoch      uint64            `json:"epoch"`
	PID        int               `json:"pid"`
	Host       string            `json:"host"`
	AcquiredAt time.Time         `json:"acquired_at"`
	RenewedAt  time.Time         `json:"renewed_at"`
	TTL        string            `json:"ttl"`
	Seq        uint64            `json:"seq"`
	Released   bool              `json:"released,omitempty"`
	Meta       map[string]string `json:"meta"`
}

// Clone returns a copy of r that shares no memory with it.
func (r Record) Clone() Record {
	r.Meta = maps.Clone(r.Meta)
	return r
}

// MarshalJSON implements json.Marshaler.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireRecord{
		Version:    r.Version,
		InstanceID: r.InstanceID,
		Epoch:      r.Epoch,
		PID:        r.PID,
		Host:       r.Host,
		AcquiredAt: r.AcquiredAt,
		RenewedAt:  r.RenewedAt,
		TTL:        r.TTL.String(),
		Seq:        r.Seq,
		Released:   r.Released,
		Meta:       r.Meta,
	})
}

// UnmarshalJSON implements json.Unmarshaler. It checks the syntax only; use
// DecodeRecord to also validate the fields.
func (r *Record) UnmarshalJSON(b []byte) error {
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var ttl time.Duration
	if w.TTL != "" {
		d, err := time.ParseDuration(w.TTL)
		if err != nil {
			return fmt.Errorf("ttl: %w", err)
		}
		ttl = d
	}
	*r = Record{
		Version:    w.Version,
		InstanceID: w.InstanceID,
		Epoch:      w.Epoch,
		PID:        w.PID,
		Host:       w.Host,
		AcquiredAt: w.AcquiredAt,
		RenewedAt:  w.RenewedAt,
		TTL:        ttl,
		Seq:        w.Seq,
		Released:   w.Released,
		Meta:       w.Meta,
	}
	return nil
}

// DecodeRecord parses and validates a record. Any fault, from empty input to
// a missing field, gives an error wrapping ErrCorrupt; it never panics.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := r.validate(); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return r, nil
}

// EncodeRecord returns r as indented JSON followed by a newline.
func EncodeRecord(r Record) ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("lease: encode record: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("lease: encode record: %w", err)
	}
	return append(b, '\n'), nil
}

func (r Record) validate() error {
	switch {
	case r.Version < 1:
		return fmt.Errorf("version %d, want >= 1", r.Version)
	case r.InstanceID == "":
		return errors.New("instance_id is empty")
	case r.Epoch == 0:
		return errors.New("epoch is 0")
	case r.Epoch > MaxEpoch:
		return fmt.Errorf("epoch %d is above %d", r.Epoch, uint64(MaxEpoch))
	case r.TTL <= 0:
		return fmt.Errorf("ttl %v, want > 0", r.TTL)
	}
	return nil
}
