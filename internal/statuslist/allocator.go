package statuslist

import (
	"context"
	"sync"
)

// DefaultBlock is the number of indexes a process reserves at a time.
const DefaultBlock = 1024

// Reserver reserves index ranges (storage.StatusLists).
type Reserver interface {
	ReserveStatusIndexes(ctx context.Context, workspaceID string, n int64) (first int64, err error)
}

// Allocator hands out status indexes from blocks reserved ahead of use:
// one database write per Block tokens per workspace and process, none per
// token. Indexes are sequential (the draft leaves their allocation to the
// issuer; its privacy considerations favour random ones for credentials
// a holder presents to many verifiers, which access tokens are not). Indexes
// of a block not used up before the process stops are never used; no
// index is handed out twice.
type Allocator struct {
	Store Reserver
	// Block is the reservation size; 0 means DefaultBlock.
	Block int64

	mu     sync.Mutex
	blocks map[string]*block
}

type block struct {
	mu        sync.Mutex
	next, end int64
}

// Next returns an unused index of the workspace.
func (a *Allocator) Next(ctx context.Context, workspaceID string) (int64, error) {
	b := a.block(workspaceID)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.next >= b.end {
		n := a.Block
		if n <= 0 {
			n = DefaultBlock
		}
		first, err := a.Store.ReserveStatusIndexes(ctx, workspaceID, n)
		if err != nil {
			return 0, err
		}
		b.next, b.end = first, first+n
	}
	idx := b.next
	b.next++
	return idx, nil
}

func (a *Allocator) block(workspaceID string) *block {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.blocks == nil {
		a.blocks = map[string]*block{}
	}
	b := a.blocks[workspaceID]
	if b == nil {
		b = &block{}
		a.blocks[workspaceID] = b
	}
	return b
}
