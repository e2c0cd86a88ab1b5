package commands

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/crescent-db/crescent/internal/command"
	"github.com/crescent-db/crescent/internal/keyspace"
	"github.com/crescent-db/crescent/internal/resp"
)

// Geo indexes points in a sorted set whose scores are 52-bit interleaved
// geohashes, exactly as Redis does, so that scores, distances and
// coordinates match Redis digit for digit.

const (
	geoStepMax   = 26
	geoLatMin    = -85.05112878
	geoLatMax    = 85.05112878
	geoLongMin   = -180.0
	geoLongMax   = 180.0
	earthRadius  = 6372797.560856
	mercatorMax  = 20037726.37
	degToRad     = math.Pi / 180.0
	geoAlphabet  = "0123456789bcdefghjkmnpqrstuvwxyz"
	errGeoMember = "ERR could not decode requested zset member"
	errGeoUnit   = "ERR unsupported unit provided. please use M, KM, FT, MI"
)

func (h *Handlers) registerGeo() {
	t := h.Table
	t.Handle("geoadd", h.geoadd)
	t.Handle("geodist", h.geodist)
	t.Handle("geohash", h.geohash)
	t.Handle("geopos", h.geopos)
	t.Handle("georadius", func(c *command.Ctx) { h.georadius(c, 1, geoRadiusCoords) })
	t.Handle("georadius_ro", func(c *command.Ctx) { h.georadius(c, 1, geoRadiusCoords|geoNoStore) })
	t.Handle("georadiusbymember", func(c *command.Ctx) { h.georadius(c, 1, geoRadiusMember) })
	t.Handle("georadiusbymember_ro", func(c *command.Ctx) { h.georadius(c, 1, geoRadiusMember|geoNoStore) })
	t.Handle("geosearch", func(c *command.Ctx) { h.georadius(c, 1, geoSearch) })
	t.Handle("geosearchstore", func(c *command.Ctx) { h.georadius(c, 2, geoSearch|geoSearchStore) })
}

type geoRange struct{ min, max float64 }

type geoHashBits struct {
	bits uint64
	step uint
}

func (g geoHashBits) zero() bool { return g.bits == 0 && g.step == 0 }

type geoArea struct {
	hash      geoHashBits
	long, lat geoRange
}

var (
	geoLongRange = geoRange{geoLongMin, geoLongMax}
	geoLatRange  = geoRange{geoLatMin, geoLatMax}
)

func interleave64(xlo, ylo uint32) uint64 {
	B := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	S := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<S[i]) & B[i]
		y = (y | y<<S[i]) & B[i]
	}
	return x | y<<1
}

func deinterleave64(in uint64) uint64 {
	B := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	S := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := in, in>>1
	for i := 0; i < 6; i++ {
		x = (x | x>>S[i]) & B[i]
		y = (y | y>>S[i]) & B[i]
	}
	return x | y<<32
}

func geohashEncode(lr, latr geoRange, lon, lat float64, step uint) (geoHashBits, bool) {
	if step > 32 || step == 0 {
		return geoHashBits{}, false
	}
	if lon > geoLongMax || lon < geoLongMin || lat > geoLatMax || lat < geoLatMin {
		return geoHashBits{}, false
	}
	if lat < latr.min || lat > latr.max || lon < lr.min || lon > lr.max {
		return geoHashBits{step: step}, false
	}
	latOff := (lat - latr.min) / (latr.max - latr.min)
	lonOff := (lon - lr.min) / (lr.max - lr.min)
	latOff *= float64(uint64(1) << step)
	lonOff *= float64(uint64(1) << step)
	return geoHashBits{bits: interleave64(uint32(latOff), uint32(lonOff)), step: step}, true
}

func geohashDecode(lr, latr geoRange, h geoHashBits) geoArea {
	sep := deinterleave64(h.bits)
	latScale := latr.max - latr.min
	lonScale := lr.max - lr.min
	ilat := uint32(sep)
	ilon := uint32(sep >> 32)
	div := float64(uint64(1) << h.step)
	return geoArea{hash: h,
		lat:  geoRange{latr.min + (float64(ilat)*1.0/div)*latScale, latr.min + ((float64(ilat)+1)*1.0/div)*latScale},
		long: geoRange{lr.min + (float64(ilon)*1.0/div)*lonScale, lr.min + ((float64(ilon)+1)*1.0/div)*lonScale},
	}
}

func areaToLonLat(a geoArea) (float64, float64) {
	x := (a.long.min + a.long.max) / 2
	x = math.Min(math.Max(x, geoLongMin), geoLongMax)
	y := (a.lat.min + a.lat.max) / 2
	y = math.Min(math.Max(y, geoLatMin), geoLatMax)
	return x, y
}

// decodeGeoScore returns the longitude and latitude a score encodes.
func decodeGeoScore(score float64) (float64, float64) {
	h := geoHashBits{bits: cDoubleToUint64(score), step: geoStepMax}
	return areaToLonLat(geohashDecode(geoLongRange, geoLatRange, h))
}

// cDoubleToUint64 converts f as Redis's (GeoHashFix52Bits)score cast does
// when built by GCC for x86-64 (the reference build): below 2^63 through a
// signed conversion (negative scores wrap), above by subtracting 2^63; an
// out-of-range value (1e300, inf) converts to the "integer indefinite"
// 0x8000000000000000, which the 2^63 path flips to 0. Go's own conversion
// of such values is implementation-specific.
func cDoubleToUint64(f float64) uint64 {
	const two63 = 1 << 63
	cvt := func(f float64) uint64 { // cvttsd2si
		if !(f > -two63-1024 && f < two63) { // out of range or NaN
			return 1 << 63
		}
		return uint64(int64(f))
	}
	if f < two63 {
		return cvt(f)
	}
	return cvt(f-two63) ^ 1<<63
}

// encodeGeoScore returns the 52-bit score of a point.
func encodeGeoScore(lon, lat float64) uint64 {
	h, _ := geohashEncode(geoLongRange, geoLatRange, lon, lat, geoStepMax)
	return h.bits << (52 - geoStepMax*2)
}

func latDistance(lat1, lat2 float64) float64 {
	return earthRadius * math.Abs(lat2*degToRad-lat1*degToRad)
}

func geoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := lon1*degToRad, lon2*degToRad
	v := geoSin((lon2r - lon1r) / 2)
	if v == 0 {
		return latDistance(lat1, lat2)
	}
	lat1r, lat2r := lat1*degToRad, lat2*degToRad
	u := geoSin((lat2r - lat1r) / 2)
	a := u*u + geoCos(lat1r)*geoCos(lat2r)*v*v
	return 2.0 * earthRadius * geoAsin(math.Sqrt(a))
}

func moveX(h *geoHashBits, d int) {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - h.step*2)
	if d > 0 {
		x += zz + 1
	} else {
		x |= zz
		x -= zz + 1
	}
	x &= uint64(0xaaaaaaaaaaaaaaaa) >> (64 - h.step*2)
	h.bits = x | y
}

func moveY(h *geoHashBits, d int) {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - h.step*2)
	if d > 0 {
		y += zz + 1
	} else {
		y |= zz
		y -= zz + 1
	}
	y &= uint64(0x5555555555555555) >> (64 - h.step*2)
	h.bits = x | y
}

// geoNeighbors are, in Redis's order: north, south, east, west, north-east,
// north-west, south-east, south-west.
type geoNeighbors struct{ n, s, e, w, ne, nw, se, sw geoHashBits }

func neighborsOf(h geoHashBits) geoNeighbors {
	var nb geoNeighbors
	mv := func(dx, dy int) geoHashBits {
		x := h
		if dx != 0 {
			moveX(&x, dx)
		}
		if dy != 0 {
			moveY(&x, dy)
		}
		return x
	}
	nb.e, nb.w, nb.s, nb.n = mv(1, 0), mv(-1, 0), mv(0, -1), mv(0, 1)
	nb.nw, nb.sw, nb.ne, nb.se = mv(-1, 1), mv(-1, -1), mv(1, 1), mv(1, -1)
	return nb
}

func estimateSteps(rangeMeters, lat float64) uint {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	step = min(max(step, 1), 26)
	return uint(step)
}

// geoShape is a search area: a circle (radius) or a box (width, height),
// in the unit given by conversion (meters per unit).
type geoShape struct {
	box           bool
	lon, lat      float64
	radius        float64
	width, height float64
	conversion    float64
}

func (s *geoShape) boundingBox() (minLon, minLat, maxLon, maxLat float64) {
	height, width := s.radius, s.radius
	if s.box {
		height, width = s.height/2, s.width/2
	}
	height *= s.conversion
	width *= s.conversion
	latDelta := height / earthRadius / degToRad
	top := width / earthRadius / geoCos((s.lat+latDelta)*degToRad) / degToRad
	bottom := width / earthRadius / geoCos((s.lat-latDelta)*degToRad) / degToRad
	if s.lat < 0 {
		minLon, maxLon = s.lon-bottom, s.lon+bottom
	} else {
		minLon, maxLon = s.lon-top, s.lon+top
	}
	return minLon, s.lat - latDelta, maxLon, s.lat + latDelta
}

// areas returns the boxes to scan, in Redis's order (zero: skipped).
func (s *geoShape) areas() [9]geoHashBits {
	minLon, minLat, maxLon, maxLat := s.boundingBox()
	radius := s.radius
	if s.box {
		radius = math.Sqrt((s.width/2)*(s.width/2) + (s.height/2)*(s.height/2))
	}
	radius *= s.conversion
	steps := estimateSteps(radius, s.lat)
	hash, _ := geohashEncode(geoLongRange, geoLatRange, s.lon, s.lat, steps)
	nb := neighborsOf(hash)
	area := geohashDecode(geoLongRange, geoLatRange, hash)
	dec := false
	if geohashDecode(geoLongRange, geoLatRange, nb.n).lat.max < maxLat {
		dec = true
	}
	if geohashDecode(geoLongRange, geoLatRange, nb.s).lat.min > minLat {
		dec = true
	}
	if geohashDecode(geoLongRange, geoLatRange, nb.e).long.max < maxLon {
		dec = true
	}
	if geohashDecode(geoLongRange, geoLatRange, nb.w).long.min > minLon {
		dec = true
	}
	if steps > 1 && dec {
		steps--
		hash, _ = geohashEncode(geoLongRange, geoLatRange, s.lon, s.lat, steps)
		nb = neighborsOf(hash)
		area = geohashDecode(geoLongRange, geoLatRange, hash)
	}
	if steps >= 2 {
		if area.lat.min < minLat {
			nb.s, nb.sw, nb.se = geoHashBits{}, geoHashBits{}, geoHashBits{}
		}
		if area.lat.max > maxLat {
			nb.n, nb.ne, nb.nw = geoHashBits{}, geoHashBits{}, geoHashBits{}
		}
		if area.long.min < minLon {
			nb.w, nb.sw, nb.nw = geoHashBits{}, geoHashBits{}, geoHashBits{}
		}
		if area.long.max > maxLon {
			nb.e, nb.se, nb.ne = geoHashBits{}, geoHashBits{}, geoHashBits{}
		}
	}
	return [9]geoHashBits{hash, nb.n, nb.s, nb.e, nb.w, nb.ne, nb.nw, nb.se, nb.sw}
}

// within reports whether (lon, lat) is inside the shape, with its distance
// in meters from the center.
func (s *geoShape) within(lon, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.lon, s.lat, lon, lat)
		return d, d <= s.radius*s.conversion
	}
	w, h := s.width*s.conversion, s.height*s.conversion
	if latDistance(lat, s.lat) > h/2 {
		return 0, false
	}
	if geoDistance(lon, lat, s.lon, lat) > w/2 {
		return 0, false
	}
	return geoDistance(s.lon, s.lat, lon, lat), true
}

type geoPoint struct {
	lon, lat, dist, score float64
	member                string
}

// search collects the points inside the shape (limit 0: all).
func (s *geoShape) search(z *keyspace.ZSet, limit int) []geoPoint {
	var out []geoPoint
	boxes := s.areas()
	last := 0
	for i, b := range boxes {
		if b.zero() {
			continue
		}
		if last != 0 && b == boxes[last] {
			continue
		}
		if len(out) > 0 && limit > 0 && len(out) >= limit {
			break
		}
		min := b.bits << (52 - b.step*2)
		max := (b.bits + 1) << (52 - b.step*2)
		r := keyspace.ScoreRange{Min: float64(min), Max: float64(max), MaxEx: true}
		for n := z.FirstInRange(&r); n != nil && r.LteMax(n.Score); n = n.Next() {
			lon, lat := decodeGeoScore(n.Score)
			if d, ok := s.within(lon, lat); ok {
				out = append(out, geoPoint{lon, lat, d, n.Score, n.Member})
			}
			if len(out) > 0 && limit > 0 && len(out) >= limit {
				break
			}
		}
		last = i
	}
	return out
}

// formatHumanDouble formats like Redis's ld2string(LD_STR_HUMAN): "%.17Lf"
// with trailing zeros removed.
func formatHumanDouble(dst []byte, f float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', 17, 64)
	for dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	if dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

func writeHumanDouble(w resp.ReplyWriter, f float64) {
	var buf [64]byte
	b := formatHumanDouble(buf[:0], f)
	if w.ProtoVersion() >= 3 {
		// a RESP3 double with the human format
		if rw, ok := w.(*resp.Writer); ok {
			rw.Raw([]byte(","))
			rw.Raw(b)
			rw.Raw([]byte("\r\n"))
			return
		}
		// another writer (a script's reply to Lua) gets the double that
		// text reads as, as Redis's Lua conversion parses it with strtod
		if v, err := strconv.ParseFloat(string(b), 64); err == nil {
			f = v
		}
		w.Double(f)
		return
	}
	w.Bulk(b)
}

func writeDistance(w resp.ReplyWriter, d float64) {
	w.BulkString(strconv.FormatFloat(d, 'f', 4, 64))
}

func parseLonLat(c *command.Ctx, args [][]byte) (float64, float64, bool) {
	lon, ok := parseRedisDouble(args[0])
	if !ok {
		c.Error(ErrNotFloat)
		return 0, 0, false
	}
	lat, ok := parseRedisDouble(args[1])
	if !ok {
		c.Error(ErrNotFloat)
		return 0, 0, false
	}
	if lon < geoLongMin || lon > geoLongMax || lat < geoLatMin || lat > geoLatMax {
		c.Error("ERR invalid longitude,latitude pair " + cFormatF(lon) + "," + cFormatF(lat))
		return 0, 0, false
	}
	return lon, lat, true
}

// cFormatF formats f as C's printf("%f") does: infinities as "inf" and
// "-inf" where Go's %f writes "+Inf" and "-Inf".
func cFormatF(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return fmt.Sprintf("%f", f)
}

func geoUnit(c *command.Ctx, u []byte) (float64, bool) {
	switch {
	case EqualFold(u, "m"):
		return 1, true
	case EqualFold(u, "km"):
		return 1000, true
	case EqualFold(u, "ft"):
		return 0.3048, true
	case EqualFold(u, "mi"):
		return 1609.34, true
	}
	c.Error(errGeoUnit)
	return 0, false
}

func (h *Handlers) geoadd(c *command.Ctx) {
	longidx := 2
	var nx, xx bool
	ch := false
	for ; longidx < len(c.Args); longidx++ {
		a := c.Args[longidx]
		if EqualFold(a, "nx") {
			nx = true
		} else if EqualFold(a, "xx") {
			xx = true
		} else if EqualFold(a, "ch") {
			ch = true
		} else {
			break
		}
	}
	if (len(c.Args)-longidx)%3 != 0 || (xx && nx) {
		c.Error(ErrSyntax)
		return
	}
	elements := (len(c.Args) - longidx) / 3
	args := make([][]byte, 0, longidx+elements*2)
	args = append(args, []byte("zadd"))
	args = append(args, c.Args[1:longidx]...)
	for i := 0; i < elements; i++ {
		lon, lat, ok := parseLonLat(c, c.Args[longidx+i*3:])
		if !ok {
			return
		}
		args = append(args, strconv.AppendUint(nil, encodeGeoScore(lon, lat), 10), c.Args[longidx+i*3+2])
	}
	_ = ch
	// run as ZADD (and replicated so), but logged as called: SLOWLOG and
	// MONITOR show the GEOADD (Redis's original_argv)
	orig := c.Args
	c.Args = args
	c.Propagate = [][][]byte{args}
	h.zadd(c)
	c.Args = orig
}

func (h *Handlers) geodist(c *command.Ctx) {
	toMeter := 1.0
	if len(c.Args) == 5 {
		var ok bool
		if toMeter, ok = geoUnit(c, c.Args[4]); !ok {
			return
		}
	} else if len(c.Args) > 5 {
		c.Error(ErrSyntax)
		return
	}
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	if z == nil {
		c.W.Null()
		return
	}
	s1, ok1 := z.Score(string(c.Args[2]))
	s2, ok2 := z.Score(string(c.Args[3]))
	if !ok1 || !ok2 {
		c.W.Null()
		return
	}
	x1, y1 := decodeGeoScore(s1)
	x2, y2 := decodeGeoScore(s2)
	writeDistance(c.W, geoDistance(x1, y1, x2, y2)/toMeter)
}

func (h *Handlers) geohash(c *command.Ctx) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		var score float64
		found := false
		if z != nil {
			score, found = z.Score(string(m))
		}
		if !found {
			c.W.Null()
			continue
		}
		lon, lat := decodeGeoScore(score)
		hb, _ := geohashEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, 26)
		var buf [11]byte
		for i := 0; i < 11; i++ {
			idx := 0
			if i < 10 {
				idx = int(hb.bits >> (52 - (i+1)*5) & 0x1f)
			}
			buf[i] = geoAlphabet[idx]
		}
		c.W.Bulk(buf[:])
	}
}

func (h *Handlers) geopos(c *command.Ctx) {
	z, ok := getZSet(c, c.Args[1])
	if !ok {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		var score float64
		found := false
		if z != nil {
			score, found = z.Score(string(m))
		}
		if !found {
			c.W.NullArray()
			continue
		}
		lon, lat := decodeGeoScore(score)
		c.W.Array(2)
		writeHumanDouble(c.W, lon)
		writeHumanDouble(c.W, lat)
	}
}

const (
	geoRadiusCoords = 1 << iota
	geoRadiusMember
	geoNoStore
	geoSearch
	geoSearchStore
)

func (h *Handlers) georadius(c *command.Ctx, srcIdx int, flags int) {
	var storekey []byte
	storedist := false
	saved := readingView(c) // lookupKeyRead, with STORE too
	z, ok := getZSet(c, c.Args[srcIdx])
	c.DB = saved
	if !ok {
		return
	}
	var shape geoShape
	var baseArgs int
	switch {
	case flags&geoRadiusCoords != 0:
		baseArgs = 6
		var ok bool
		if shape.lon, shape.lat, ok = parseLonLat(c, c.Args[2:]); !ok {
			return
		}
		if !geoDistanceArg(c, c.Args[4:], &shape) {
			return
		}
	case flags&geoRadiusMember != 0 && z == nil:
		baseArgs = 5
	case flags&geoRadiusMember != 0:
		baseArgs = 5
		score, found := z.Score(string(c.Args[2]))
		if !found {
			c.Error(errGeoMember)
			return
		}
		shape.lon, shape.lat = decodeGeoScore(score)
		if !geoDistanceArg(c, c.Args[3:], &shape) {
			return
		}
	default:
		baseArgs = 2
		if flags&geoSearchStore != 0 {
			baseArgs = 3
			storekey = c.Args[1]
		}
	}
	var withdist, withhash, withcoord, frommember, fromloc, byradius, bybox, any bool
	sortDir := 0 // 1 asc, -1 desc
	var count int64
	remaining := len(c.Args) - baseArgs
	for i := 0; i < remaining; i++ {
		arg := c.Args[baseArgs+i]
		switch {
		case EqualFold(arg, "withdist"):
			withdist = true
		case EqualFold(arg, "withhash"):
			withhash = true
		case EqualFold(arg, "withcoord"):
			withcoord = true
		case EqualFold(arg, "any"):
			any = true
		case EqualFold(arg, "asc"):
			sortDir = 1
		case EqualFold(arg, "desc"):
			sortDir = -1
		case EqualFold(arg, "count") && i+1 < remaining:
			n, ok := ParseInt(c.Args[baseArgs+i+1])
			if !ok {
				c.Error(ErrNotInt)
				return
			}
			if n <= 0 {
				c.Error("ERR COUNT must be > 0")
				return
			}
			count = n
			i++
		case EqualFold(arg, "store") && i+1 < remaining && flags&geoNoStore == 0 && flags&geoSearch == 0:
			storekey = c.Args[baseArgs+i+1]
			storedist = false
			i++
		case EqualFold(arg, "storedist") && i+1 < remaining && flags&geoNoStore == 0 && flags&geoSearch == 0:
			storekey = c.Args[baseArgs+i+1]
			storedist = true
			i++
		case EqualFold(arg, "storedist") && flags&geoSearch != 0 && flags&geoSearchStore != 0:
			storedist = true
		case EqualFold(arg, "frommember") && i+1 < remaining && flags&geoSearch != 0 && !fromloc:
			if z == nil {
				frommember = true
				i++
				continue
			}
			score, found := z.Score(string(c.Args[baseArgs+i+1]))
			if !found {
				c.Error(errGeoMember)
				return
			}
			shape.lon, shape.lat = decodeGeoScore(score)
			frommember = true
			i++
		case EqualFold(arg, "fromlonlat") && i+2 < remaining && flags&geoSearch != 0 && !frommember:
			var ok bool
			if shape.lon, shape.lat, ok = parseLonLat(c, c.Args[baseArgs+i+1:]); !ok {
				return
			}
			fromloc = true
			i += 2
		case EqualFold(arg, "byradius") && i+2 < remaining && flags&geoSearch != 0 && !bybox:
			if !geoDistanceArg(c, c.Args[baseArgs+i+1:], &shape) {
				return
			}
			shape.box = false
			byradius = true
			i += 2
		case EqualFold(arg, "bybox") && i+3 < remaining && flags&geoSearch != 0 && !byradius:
			a := c.Args[baseArgs+i+1:]
			w, ok := parseRedisDouble(a[0])
			if !ok {
				c.Error("ERR need numeric width")
				return
			}
			ht, ok := parseRedisDouble(a[1])
			if !ok {
				c.Error("ERR need numeric height")
				return
			}
			if ht < 0 || w < 0 {
				c.Error("ERR height or width cannot be negative")
				return
			}
			if shape.conversion, ok = geoUnit(c, a[2]); !ok {
				return
			}
			shape.width, shape.height, shape.box = w, ht, true
			bybox = true
			i += 3
		default:
			c.Error(ErrSyntax)
			return
		}
	}
	if storekey != nil && (withdist || withhash || withcoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		c.Error("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if flags&geoSearch != 0 && !(frommember || fromloc) {
		c.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(c.Args[0]))
		return
	}
	if flags&geoSearch != 0 && !(byradius || bybox) {
		c.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(c.Args[0]))
		return
	}
	if any && count == 0 {
		c.Error("ERR the ANY argument requires COUNT argument")
		return
	}
	if z == nil {
		if storekey != nil {
			deleteDestination(c, storekey)
			c.W.Int(0)
		} else {
			c.W.Array(0)
		}
		return
	}
	if count != 0 && sortDir == 0 && !any {
		sortDir = 1
	}
	limit := 0
	if any {
		limit = int(count)
	}
	points := shape.search(z, limit)
	if len(points) == 0 && storekey == nil {
		c.W.Array(0)
		return
	}
	returned := len(points)
	if count != 0 && int64(returned) > count {
		returned = int(count)
	}
	// Redis sorts all the matches with qsort (glibc's is a stable merge
	// sort) but only the first COUNT with its pqsort, whose order of equal
	// distances is its own.
	if sortDir != 0 {
		byDist := func(a, b geoPoint) int {
			switch {
			case a.dist > b.dist:
				return sortDir
			case a.dist == b.dist:
				return 0
			}
			return -sortDir
		}
		if returned == len(points) {
			slices.SortStableFunc(points, byDist)
		} else {
			pqsort(points, byDist, 0, returned-1)
		}
	}
	points = points[:returned]
	if storekey == nil {
		opts := 0
		for _, b := range []bool{withdist, withcoord, withhash} {
			if b {
				opts++
			}
		}
		g := c.ReplyGuard(0) // bounded by the zset; stopped by the output limit
		c.W.Array(len(points))
		for _, p := range points {
			if g.Over() {
				break
			}
			if opts > 0 {
				c.W.Array(opts + 1)
			}
			c.W.BulkString(p.member)
			if withdist {
				writeDistance(c.W, p.dist/shape.conversion)
			}
			if withhash {
				c.W.Int(int64(p.score))
			}
			if withcoord {
				c.W.Array(2)
				writeHumanDouble(c.W, p.lon)
				writeHumanDouble(c.W, p.lat)
			}
		}
		return
	}
	if len(points) == 0 {
		deleteDestination(c, storekey)
		c.W.Int(0)
		return
	}
	maxlen := 0
	for _, p := range points {
		maxlen = max(maxlen, len(p.member))
	}
	entries, value := h.zlimits()
	out := newZSetFor(len(points), maxlen, entries, value)
	for _, p := range points {
		score := p.score
		if storedist {
			score = p.dist / shape.conversion
		}
		out.Set(p.member, score)
	}
	c.DB.Set(storekey, out, 0)
	c.Modified(storekey)
	c.Dirty += len(points) - 1
	if flags&geoSearch != 0 {
		c.Event('z', "geosearchstore", storekey)
	} else {
		c.Event('z', "georadiusstore", storekey)
	}
	c.W.Int(int64(len(points)))
}

func geoDistanceArg(c *command.Ctx, a [][]byte, shape *geoShape) bool {
	d, ok := parseRedisDouble(a[0])
	if !ok {
		c.Error("ERR need numeric radius")
		return false
	}
	if d < 0 {
		c.Error("ERR radius cannot be negative")
		return false
	}
	shape.radius = d
	if shape.conversion, ok = geoUnit(c, a[1]); !ok {
		return false
	}
	return true
}
