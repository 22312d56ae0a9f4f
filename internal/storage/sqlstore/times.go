package sqlstore

import "time"

// toMillis stores t as UTC Unix milliseconds; the zero time is 0 so that
// "not set" survives a round trip.
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of toMillis; times come back in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// roundTime is what a time becomes after a round trip through the store.
func roundTime(t time.Time) time.Time { return fromMillis(toMillis(t)) }
