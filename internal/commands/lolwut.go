package commands

// LOLWUT VERSION 5 and 6: the computer art of Redis 5 (Georg Nees's
// Schotter, lolwut5.c) and Redis 6 (a skyline, lolwut6.c), ported from
// Redis 7.0 with its arithmetic (float and double where Redis has them)
// and its random source: glibc's rand(), seeded as redis-server seeds it at
// startup (srand(time(NULL)^getpid())). The random parts therefore differ
// between two runs of either server; what does not depend on them (the
// first two rows of squares, every size, the captions) is Redis's byte for
// byte.

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crescent-db/crescent/internal/command"
)

// glibcRand is glibc's rand() (random(3) with its default TYPE_3 state:
// an additive feedback generator over 34 words).
type glibcRand struct {
	r [34]int32
	i int // next word to produce (mod 34)
}

// newGlibcRand returns the generator srand(seed) leaves.
func newGlibcRand(seed uint32) *glibcRand {
	g := &glibcRand{}
	s := int32(seed)
	if s == 0 {
		s = 1
	}
	g.r[0] = s
	for i := 1; i < 31; i++ {
		// 16807 * r[i-1] % 2147483647 without overflow (Schrage)
		hi, lo := g.r[i-1]/127773, g.r[i-1]%127773
		w := 16807*lo - 2836*hi
		if w < 0 {
			w += 2147483647
		}
		g.r[i] = w
	}
	for i := 31; i < 34; i++ {
		g.r[i] = g.r[i-31]
	}
	g.i = 34
	for range 310 { // srandom discards the first 310 outputs
		g.next()
	}
	return g
}

// next is rand(): a value in [0, RAND_MAX].
func (g *glibcRand) next() int {
	i := g.i % 34
	v := uint32(g.r[(i+34-31)%34]) + uint32(g.r[(i+34-3)%34])
	g.r[i] = int32(v)
	g.i++
	return int(v >> 1)
}

// randMax is glibc's RAND_MAX.
const randMax = 2147483647

// lolwutState is the rand() of LOLWUT's art, seeded at its first use.
type lolwutState struct {
	mu  sync.Mutex
	rnd *glibcRand
}

func (s *lolwutState) rand() *glibcRand {
	if s.rnd == nil {
		s.rnd = newGlibcRand(uint32(time.Now().Unix()) ^ uint32(os.Getpid()))
	}
	return s.rnd
}

// lwCanvas is lolwut.c's canvas: one byte per pixel, 0,0 at the top left.
type lwCanvas struct {
	width, height int
	pixels        []byte
}

func lwCreateCanvas(width, height int, bg byte) *lwCanvas {
	c := &lwCanvas{width: width, height: height, pixels: make([]byte, width*height)}
	if bg != 0 {
		for i := range c.pixels {
			c.pixels[i] = bg
		}
	}
	return c
}

func (c *lwCanvas) draw(x, y int, color byte) {
	if x < 0 || x >= c.width || y < 0 || y >= c.height {
		return
	}
	c.pixels[x+y*c.width] = color
}

func (c *lwCanvas) get(x, y int) byte {
	if x < 0 || x >= c.width || y < 0 || y >= c.height {
		return 0
	}
	return c.pixels[x+y*c.width]
}

// line is lwDrawLine (Bresenham).
func (c *lwCanvas) line(x1, y1, x2, y2 int, color byte) {
	dx, dy := abs(x2-x1), abs(y2-y1)
	sx, sy := -1, -1
	if x1 < x2 {
		sx = 1
	}
	if y1 < y2 {
		sy = 1
	}
	err := dx - dy
	for {
		c.draw(x1, y1, color)
		if x1 == x2 && y1 == y2 {
			break
		}
		e2 := err * 2
		if e2 > -dy {
			err -= dy
			x1 += sx
		}
		if e2 < dx {
			err += dx
			y1 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// square is lwDrawSquare: a square centred on x,y, rotated by angle,
// with C's float and double conversions where lolwut.c has them (the
// explicit conversions also keep products from fusing into FMAs).
func (c *lwCanvas) square(x, y int, size, angle float32, color byte) {
	var px, py [4]int
	size = float32(float64(size) / 1.4142135623)
	size = float32(math.Round(float64(size)))
	k := float32(math.Pi/4 + float64(angle))
	for j := range 4 {
		px[j] = int(math.Round(float64(math.Sin(float64(k))*float64(size)) + float64(x)))
		py[j] = int(math.Round(float64(math.Cos(float64(k))*float64(size)) + float64(y)))
		k = float32(float64(k) + math.Pi/2)
	}
	for j := range 4 {
		c.line(px[j], py[j], px[(j+1)%4], py[(j+1)%4], color)
	}
}

// schotter is lwDrawSchotter.
func schotter(g *glibcRand, cols, perRow, perCol int) *lwCanvas {
	width := cols * 2
	padding := 0
	if width > 4 {
		padding = 2
	}
	side := float32(width-padding*2) / float32(perRow)
	height := int(float32(side*float32(perCol)) + float32(padding*2))
	cv := lwCreateCanvas(width, height, 0)
	for y := range perCol {
		for x := range perRow {
			sx := int(float32(float32(x)*side) + side/2 + float32(padding))
			sy := int(float32(float32(y)*side) + side/2 + float32(padding))
			var angle float32
			if y > 1 {
				r := func() float32 {
					return float32(g.next()) / float32(randMax) / float32(perCol) * float32(y)
				}
				r1, r2, r3 := r(), r(), r()
				if g.next()%2 != 0 {
					r1 = -r1
				}
				if g.next()%2 != 0 {
					r2 = -r2
				}
				if g.next()%2 != 0 {
					r3 = -r3
				}
				angle = r1
				sx = int(float32(sx) + float32(r2*side)/3)
				sy = int(float32(sy) + float32(r3*side)/3)
			}
			cv.square(sx, sy, side, angle, 1)
		}
	}
	return cv
}

// renderBraille is lolwut5.c's renderCanvas: 2x4 pixels per braille
// character.
func renderBraille(cv *lwCanvas) string {
	var b strings.Builder
	for y := 0; y < cv.height; y += 4 {
		for x := 0; x < cv.width; x += 2 {
			bits := 0
			for i, p := range [8][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}} {
				if cv.get(x+p[0], y+p[1]) != 0 {
					bits |= 1 << i
				}
			}
			code := 0x2800 + bits
			b.WriteByte(byte(0xE0 | code>>12))
			b.WriteByte(byte(0x80 | (code>>6)&0x3F))
			b.WriteByte(byte(0x80 | code&0x3F))
		}
		if y != cv.height-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// skyscraper is lolwut6.c's struct skyscraper.
type skyscraper struct {
	xoff, width, height int
	windows             bool
	color               byte
}

func (cv *lwCanvas) skyscraper(g *glibcRand, si skyscraper) {
	starty := cv.height - 1
	endy := starty - si.height + 1
	for y := starty; y >= endy; y-- {
		for x := si.xoff; x < si.xoff+si.width; x++ {
			if y == endy && (x <= si.xoff+1 || x >= si.xoff+si.width-2) {
				continue // the roof is four pixels narrower
			}
			color := si.color
			if si.windows && x > si.xoff+1 && x < si.xoff+si.width-2 && y > endy+1 && y < starty-1 {
				relx, rely := x-(si.xoff+1), y-(endy+1)
				if relx/2%2 != 0 && rely%2 != 0 {
					for {
						color = byte(1 + g.next()%2)
						if color != si.color {
							break
						}
					}
					if relx%2 != 0 {
						color = cv.get(x-1, y)
					}
				}
			}
			cv.draw(x, y, color)
		}
	}
}

// skyline is generateSkyline. C's rand()%canvas->height/2 is
// (rand()%height)/2.
func (cv *lwCanvas) skyline(g *glibcRand) {
	for color := byte(2); color >= 1; color-- {
		for offset := -10; offset < cv.width; {
			offset += g.next() % 8
			si := skyscraper{xoff: offset, width: 10 + g.next()%9, color: color}
			if color == 2 {
				si.height = cv.height/2 + g.next()%cv.height/2
			} else {
				si.height = cv.height/2 + g.next()%cv.height/3
			}
			cv.skyscraper(g, si)
			if color == 2 {
				offset += si.width / 2
			} else {
				offset += si.width + 1
			}
		}
	}
	for offset := -10; offset < cv.width; {
		offset += g.next() % 8
		si := skyscraper{xoff: offset, width: 5 + g.next()%14, windows: true}
		if si.width%4 != 0 {
			si.width += si.width % 3
		}
		si.height = cv.height/3 + g.next()%cv.height/2
		cv.skyscraper(g, si)
		offset += si.width + 5
	}
}

// renderGrays is lolwut6.c's renderCanvas: a space per pixel in one of
// the terminal's four grays.
func renderGrays(cv *lwCanvas) string {
	var b strings.Builder
	for y := range cv.height {
		for x := range cv.width {
			ce := "0;30;40m"
			switch cv.get(x, y) {
			case 1:
				ce = "0;90;100m"
			case 2:
				ce = "0;37;47m"
			case 3:
				ce = "0;97;107m"
			}
			fmt.Fprintf(&b, "\033[%s \033[0m", ce)
		}
		if y != cv.height-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// lolwutArgs reads up to len(dst) optional integer arguments into dst
// (getLongFromObjectOrReply), reporting false after writing the error.
func lolwutArgs(c *command.Ctx, args [][]byte, dst ...*int64) bool {
	for i, a := range args {
		if i >= len(dst) {
			break
		}
		n, ok := ParseInt(a)
		if !ok {
			c.Error(ErrNotInt)
			return false
		}
		*dst[i] = n
	}
	return true
}

func clampLong(v, lo, hi int64) int {
	return int(min(max(v, lo), hi))
}

// lolwut5 is lolwut5Command: LOLWUT VERSION 5 [cols [squares-per-row
// [squares-per-col]]].
func (h *Handlers) lolwut5(c *command.Ctx, args [][]byte) {
	cols, perRow, perCol := int64(66), int64(8), int64(12)
	if !lolwutArgs(c, args, &cols, &perRow, &perCol) {
		return
	}
	h.lolwutArt.mu.Lock()
	cv := schotter(h.lolwutArt.rand(), clampLong(cols, 1, 1000), clampLong(perRow, 1, 200), clampLong(perCol, 1, 200))
	h.lolwutArt.mu.Unlock()
	c.W.Verbatim("txt", renderBraille(cv)+
		"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "+RedisVersion+"\n")
}

// lolwut6 is lolwut6Command: LOLWUT VERSION 6 [cols [rows]].
func (h *Handlers) lolwut6(c *command.Ctx, args [][]byte) {
	cols, rows := int64(80), int64(20)
	if !lolwutArgs(c, args, &cols, &rows) {
		return
	}
	cv := lwCreateCanvas(clampLong(cols, 1, 1000), clampLong(rows, 1, 1000), 3)
	h.lolwutArt.mu.Lock()
	cv.skyline(h.lolwutArt.rand())
	h.lolwutArt.mu.Unlock()
	c.W.Verbatim("txt", renderGrays(cv)+
		"\nDedicated to the 8 bit game developers of past and present.\n"+
		"Original 8 bit image from Plaguemon by hikikomori. Redis ver. "+RedisVersion+"\n")
}
