package main

import (
	"github.com/corsfilter/corsfilter/internal/fnv1a"

	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm"
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/corsfilter/corsfilter/policy"
)

// This file fetches the origin sets of origin_sources, on the plugin's
// tick, with proxy_http_call, and shares them between the VMs of the
// plugin (Envoy's workers) through proxy-wasm shared data:
//
//   - <key>.lease: which VM fetches, and until when. A VM whose fetch is
//     due takes the lease with compare-and-swap, so one VM fetches.
//   - <key>.meta: the set's version, when it was last fetched, when the
//     next fetch is due. Small: every VM reads it on every tick.
//   - <key>.set: the version, the ETag and the validated origins, which a
//     VM reads only when the version moved, to build its lookup structure
//     there, on the tick, never on a stream.
//
// Fail static: a fetch that fails (the call refused, a reset, a timeout, a
// bad status, a bad body, too many origins) keeps the set there is, and
// before the first good fetch there is none, which allows no origin.

// retryMS bounds the wait before a failed fetch is tried again.
const retryMS = 10_000

// Failure reasons, as the metrics name them.
var fetchFailures = []string{"dispatch", "reset", "timeout", "status", "body", "too_large"}

const (
	failDispatch = iota
	failReset
	failTimeout
	failStatus
	failBody
	failTooLarge
)

// originSource is one source as this VM sees it.
type originSource struct {
	index    int
	cfg      policy.OriginSource
	key      string // shared-data key prefix, which changes with the source's settings
	version  uint64 // the version installed in this VM's policy; 0: none
	etag     string // of the installed version
	inFlight bool   // this VM's fetch awaits its answer

	success, invalid metric
	failures         []metric
	size, age, ver   gauge
}

// sourceMeta is the <key>.meta record.
type sourceMeta struct {
	version   uint64
	goodAtMS  int64 // when the last fetch succeeded; 0: never
	nextDueMS int64
	size      uint32
}

const metaSize = 8 + 8 + 8 + 4

func (m sourceMeta) encode() []byte {
	b := binary.LittleEndian.AppendUint64(nil, m.version)
	b = binary.LittleEndian.AppendUint64(b, uint64(m.goodAtMS))
	b = binary.LittleEndian.AppendUint64(b, uint64(m.nextDueMS))
	return binary.LittleEndian.AppendUint32(b, m.size)
}

func decodeMeta(b []byte) (sourceMeta, bool) {
	if len(b) != metaSize {
		return sourceMeta{}, false
	}
	return sourceMeta{
		version:   binary.LittleEndian.Uint64(b),
		goodAtMS:  int64(binary.LittleEndian.Uint64(b[8:])),
		nextDueMS: int64(binary.LittleEndian.Uint64(b[16:])),
		size:      binary.LittleEndian.Uint32(b[24:]),
	}, true
}

// newSources defines the metrics of the policy's sources.
func newSources(pol *policy.Policy, defC func(string) (metric, error), defG func(string) (gauge, error)) ([]*originSource, error) {
	var out []*originSource
	var errs []error
	for i, cfg := range pol.Sources() {
		h := fnv1a.String(cfg.Cluster + "\x00" + cfg.Authority + "\x00" + cfg.Path + "\x00" + strconv.Itoa(cfg.MaxOrigins))
		s := &originSource{index: i, cfg: cfg, key: "corsfilter.origin_set." + cfg.Name + "." + strconv.FormatUint(h, 16)}
		prefix := "cors.origin_source." + cfg.Name + "."
		defineInto(&s.success, prefix+"fetch_success", defC, &errs)
		defineInto(&s.invalid, prefix+"invalid_entries", defC, &errs)
		s.failures = make([]metric, len(fetchFailures))
		for k, reason := range fetchFailures {
			defineInto(&s.failures[k], prefix+"fetch_failure."+reason, defC, &errs)
		}
		defineInto(&s.size, prefix+"origins", defG, &errs)
		defineInto(&s.age, prefix+"age_seconds", defG, &errs)
		defineInto(&s.ver, prefix+"version", defG, &errs)
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// sync brings the VM's copy of the set up to the shared one, records the
// gauges, and fetches when a fetch is due and this VM wins the lease.
func (s *originSource) sync(p *pluginContext, now int64) {
	meta, ok := s.meta()
	if ok && meta.version != s.version {
		s.load(p)
	}
	if ok {
		s.record(p, meta, now)
	}
	if s.inFlight || ok && now < meta.nextDueMS {
		return
	}
	if s.lease(p, now) {
		s.fetch(p, now)
	}
}

func (s *originSource) meta() (sourceMeta, bool) {
	b, _, err := proxywasm.GetSharedData(s.key + ".meta")
	if err != nil {
		return sourceMeta{}, false
	}
	return decodeMeta(b)
}

// record sets the gauges from the shared meta record, which every VM
// reads alike.
func (s *originSource) record(p *pluginContext, meta sourceMeta, now int64) {
	p.record(s.ver, uint64(meta.version))
	p.record(s.size, uint64(meta.size))
	if meta.goodAtMS > 0 && now >= meta.goodAtMS {
		p.record(s.age, uint64((now-meta.goodAtMS)/1000))
	}
}

// load reads the shared set, validates it again, and installs it.
func (s *originSource) load(p *pluginContext) {
	b, _, err := proxywasm.GetSharedData(s.key + ".set")
	if err != nil || len(b) < 12 {
		return
	}
	version := binary.LittleEndian.Uint64(b)
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if n > len(b)-12 {
		p.fault("reading the shared origin set of "+s.cfg.Name, "a malformed record")
		return
	}
	etag, rest := string(b[12:12+n]), string(b[12+n:])
	var list []string
	if rest != "" {
		for more := true; more; {
			var line string
			line, rest, more = strings.Cut(rest, "\n")
			list = append(list, line)
		}
	}
	set, _, err := policy.NewOriginSet(list, s.cfg.MaxOrigins)
	if err != nil {
		p.fault("reading the shared origin set of "+s.cfg.Name, err)
		return
	}
	p.policy.SetOriginSet(s.index, set)
	s.version, s.etag = version, etag
}

// lease takes the fetch lease for this VM when no other VM holds it. A
// lease lasts the call's timeout and one tick: a VM that dies fetching
// holds it no longer.
func (s *originSource) lease(p *pluginContext, now int64) bool {
	key := s.key + ".lease"
	mine := binary.LittleEndian.AppendUint64(nil, p.vmID)
	mine = binary.LittleEndian.AppendUint64(mine, uint64(now+int64(s.cfg.TimeoutMS)+tickMS))
	b, cas, err := proxywasm.GetSharedData(key)
	if errors.Is(err, types.ErrorStatusNotFound) {
		// The first lease: every VM may write it at once; the last
		// write wins, and the others see it is not theirs.
		if proxywasm.SetSharedData(key, mine, 0) != nil {
			return false
		}
		b, _, err = proxywasm.GetSharedData(key)
		return err == nil && len(b) == 16 && binary.LittleEndian.Uint64(b) == p.vmID
	}
	if err != nil || len(b) != 16 {
		return false
	}
	if binary.LittleEndian.Uint64(b) != p.vmID && now < int64(binary.LittleEndian.Uint64(b[8:])) {
		return false // another VM is fetching
	}
	return proxywasm.SetSharedData(key, mine, cas) == nil // CasMismatch: another VM won
}

// fetch sends the request.
func (s *originSource) fetch(p *pluginContext, now int64) {
	hs := [][2]string{{":method", "GET"}, {":path", s.cfg.Path}, {":authority", s.cfg.Authority}, {"accept", "application/json"}}
	if s.etag != "" {
		hs = append(hs, [2]string{"if-none-match", s.etag})
	}
	_, err := proxywasm.DispatchHttpCall(s.cfg.Cluster, hs, nil, nil, uint32(s.cfg.TimeoutMS), func(_, bodySize, _ int) {
		s.inFlight = false
		defer func() {
			if r := recover(); r != nil {
				p.fault("the answer of origin source "+s.cfg.Name, r)
			}
		}()
		s.answer(p, bodySize, nowMS())
	})
	if err != nil {
		s.fail(p, now, failDispatch, "proxy_http_call to cluster "+policy.Quote(s.cfg.Cluster)+" refused: "+err.Error())
		return
	}
	s.inFlight = true
}

// answer handles the registry's answer.
func (s *originSource) answer(p *pluginContext, bodySize int, now int64) {
	hs, err := proxywasm.GetHttpCallResponseHeaders()
	if err != nil || len(hs) == 0 {
		s.fail(p, now, failReset, "no answer (connection reset or no healthy upstream)")
		return
	}
	status, etag := "", ""
	for _, h := range hs {
		switch lowerASCII(h[0]) {
		case ":status":
			status = h[1]
		case "etag":
			etag = h[1]
		}
	}
	switch status {
	case "304":
		if s.version == 0 {
			s.fail(p, now, failStatus, "304 Not Modified, but this VM has no set to keep")
			return
		}
		s.succeed(p, now, nil, s.etag)
		return
	case "200":
	case "504":
		s.fail(p, now, failTimeout, "status 504 (the call timed out after "+strconv.Itoa(s.cfg.TimeoutMS)+" ms, or the registry's gateway did)")
		return
	default:
		s.fail(p, now, failStatus, "status "+policy.QuoteTruncated(status, 16))
		return
	}
	if bodySize > s.cfg.MaxBodyBytes() {
		s.fail(p, now, failTooLarge, "a body of "+strconv.Itoa(bodySize)+" bytes, more than max_origins allows")
		return
	}
	var body []byte
	if bodySize > 0 {
		if body, err = proxywasm.GetHttpCallResponseBody(0, bodySize); err != nil {
			s.fail(p, now, failBody, "the body cannot be read: "+err.Error())
			return
		}
	}
	set, dropped, samples, err := policy.ParseOriginSet(body, s.cfg.MaxOrigins)
	if dropped > 0 {
		p.add(s.invalid, dropped)
		line := "cors: origin source " + policy.Quote(s.cfg.Name) + ": dropped " + strconv.Itoa(dropped) + " invalid entries:"
		for _, d := range samples {
			line += " [" + strconv.Itoa(d.Index) + "] " + policy.QuoteTruncated(d.Value, maxLoggedValue) + ": " + d.Reason + ";"
		}
		proxywasm.LogWarn(line)
	}
	if err != nil {
		reason := failBody
		if strings.Contains(err.Error(), "max_origins") {
			reason = failTooLarge
		}
		s.fail(p, now, reason, err.Error())
		return
	}
	s.succeed(p, now, set, etag)
}

// succeed stores a good answer (set nil: 304, the set is unchanged) for
// every VM, and installs it here.
func (s *originSource) succeed(p *pluginContext, now int64, set *policy.OriginSet, etag string) {
	p.increment(s.success)
	meta, _ := s.meta()
	cur := p.policy.OriginSetOf(s.index)
	changed := set != nil && (cur == nil || s.version != meta.version || !slices.Equal(set.Origins(), cur.Origins()))
	if changed {
		meta.version++
		rec := binary.LittleEndian.AppendUint64(nil, meta.version)
		rec = binary.LittleEndian.AppendUint32(rec, uint32(len(etag)))
		rec = append(rec, etag...)
		rec = append(rec, strings.Join(set.Origins(), "\n")...)
		if err := store(s.key+".set", rec); err != nil {
			p.fault("storing the origin set of "+s.cfg.Name, err)
			return
		}
		p.policy.SetOriginSet(s.index, set)
		s.version, s.etag = meta.version, etag
		meta.size = uint32(set.Len())
		proxywasm.LogInfo("cors: origin source " + policy.Quote(s.cfg.Name) + ": version " + strconv.FormatUint(meta.version, 10) +
			" with " + strconv.Itoa(set.Len()) + " origins")
	} else if set != nil && etag != s.etag {
		s.etag = etag // same origins under a new ETag: the next request names it
	}
	meta.goodAtMS, meta.nextDueMS = now, now+int64(s.cfg.RefreshSeconds)*1000
	if err := store(s.key+".meta", meta.encode()); err != nil {
		p.fault("storing the origin set state of "+s.cfg.Name, err)
	}
	s.record(p, meta, now)
}

// fail counts and logs a failed fetch, and schedules the next one; the set
// stays as it was.
func (s *originSource) fail(p *pluginContext, now int64, reason int, detail string) {
	p.increment(s.failures[reason])
	meta, _ := s.meta()
	kept := "no set was ever fetched: the set allows no origin"
	if meta.version > 0 {
		kept = "keeping version " + strconv.FormatUint(meta.version, 10) + " (" + strconv.Itoa(int(meta.size)) + " origins)"
	}
	proxywasm.LogWarn("cors: origin source " + policy.Quote(s.cfg.Name) + ": fetch failed (" + fetchFailures[reason] + "): " + detail + "; " + kept)
	meta.nextDueMS = now + min(int64(s.cfg.RefreshSeconds)*1000, retryMS)
	if err := store(s.key+".meta", meta.encode()); err != nil {
		p.fault("storing the origin set state of "+s.cfg.Name, err)
	}
}

// store writes a shared-data value over whatever is there, with the CAS of
// what it read: the VM holding the lease is the only writer.
func store(key string, value []byte) error {
	_, cas, err := proxywasm.GetSharedData(key)
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		return err
	}
	return proxywasm.SetSharedData(key, value, cas)
}

// lowerASCII lower-cases the ASCII letters of s: header names, which Envoy
// hands over in lower case already; strings.ToLower would link Unicode's
// tables into cors.wasm.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
