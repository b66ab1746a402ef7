//go:build wasip1

package main

import "github.com/corsfilter/corsfilter/filter/internal/abi"

func init() { abi.HandleStreams(&streams) }

// streams holds the live streams of the VM by context ID, and the plugin
// contexts they belong to. Storage is recycled: after the table and the
// pool have grown to the VM's peak concurrency, starting and ending a
// stream allocates nothing.
var streams streamTable

type streamTable struct {
	// An open-addressing table with linear probing; ID 0 (never a context
	// ID) marks a free cell. len(ids) is a power of two, at least twice n.
	ids   []uint32
	slots []*stream
	n     int

	free    []*stream                 // ended streams, for reuse
	plugins map[uint32]*pluginContext // plugin context ID → its context
}

// registerPlugin records a plugin context, for the streams created under it.
func registerPlugin(id uint32, p *pluginContext) {
	if streams.plugins == nil {
		streams.plugins = map[uint32]*pluginContext{}
	}
	streams.plugins[id] = p
}

// unregisterPlugin forgets a retired plugin context. Its streams keep
// their pointer to it; none can be created under it any more.
func unregisterPlugin(id uint32) { delete(streams.plugins, id) }

func (t *streamTable) cell(id uint32) int {
	mask := len(t.ids) - 1
	for i := int(id*2654435761) & mask; ; i = (i + 1) & mask {
		if t.ids[i] == id || t.ids[i] == 0 {
			return i
		}
	}
}

// Create implements abi.Streams.
func (t *streamTable) Create(id, pluginID uint32) {
	if 2*(t.n+1) > len(t.ids) {
		t.grow()
	}
	var s *stream
	if k := len(t.free); k > 0 {
		s, t.free = t.free[k-1], t.free[:k-1]
	} else {
		s = new(stream)
	}
	s.plugin, s.forward, s.replied = t.plugins[pluginID], false, false
	i := t.cell(id)
	if t.ids[i] == 0 {
		t.n++
	}
	t.ids[i], t.slots[i] = id, s
}

func (t *streamTable) grow() {
	ids, slots := t.ids, t.slots
	size := max(64, 2*len(ids))
	t.ids, t.slots = make([]uint32, size), make([]*stream, size)
	for i, id := range ids {
		if id != 0 {
			j := t.cell(id)
			t.ids[j], t.slots[j] = id, slots[i]
		}
	}
}

func (t *streamTable) get(id uint32) *stream {
	if len(t.ids) == 0 || id == 0 {
		return nil
	}
	return t.slots[t.cell(id)]
}

// Has implements abi.Streams.
func (t *streamTable) Has(id uint32) bool { return t.get(id) != nil }

// RequestHeaders implements abi.Streams.
func (t *streamTable) RequestHeaders(id uint32) (uint32, bool) {
	if s := t.get(id); s != nil {
		return uint32(s.onRequestHeaders()), true
	}
	return 0, false
}

// ResponseHeaders implements abi.Streams.
func (t *streamTable) ResponseHeaders(id uint32) (uint32, bool) {
	if s := t.get(id); s != nil {
		return uint32(s.onResponseHeaders()), true
	}
	return 0, false
}

// Delete implements abi.Streams: the stream returns to the pool, and the
// cells after it shift back, so that lookups never cross a hole.
func (t *streamTable) Delete(id uint32) bool {
	if len(t.ids) == 0 || id == 0 {
		return false
	}
	i := t.cell(id)
	if t.ids[i] == 0 {
		return false
	}
	s := t.slots[i]
	*s = stream{spill: s.spill[:0]}
	t.free = append(t.free, s)
	t.ids[i], t.slots[i] = 0, nil
	t.n--
	mask := len(t.ids) - 1
	for j := (i + 1) & mask; t.ids[j] != 0; j = (j + 1) & mask {
		k := int(t.ids[j]*2654435761) & mask
		// Move j back to the hole i unless its home k lies in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.ids[i], t.slots[i] = t.ids[j], t.slots[j]
			t.ids[j], t.slots[j] = 0, nil
			i = j
		}
	}
	return true
}
