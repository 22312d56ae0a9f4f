// Package ratelimit holds in-process token buckets keyed by strings, used to
// budget failed client authentications per client and per source address
// (SECURITY.md M7, N1), and failed admin tokens per source address
// (docs/security.md R8). Wait checks a budget without spending it, so that
// only failures need spend.
//
// The number of buckets is bounded: keys come from attackers (random client
// IDs, spoofed addresses), so the least recently used bucket is evicted when
// the map is full. An evicted bucket would have been full again soon anyway;
// a key under attack is touched constantly and stays.
//
// Limits are per process. With N server processes an attacker gets about N
// times the budget (SECURITY.md N4 accepts this when documented).
package ratelimit
