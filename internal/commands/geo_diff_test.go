package commands_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var geoSetup = "GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 2.3522 48.8566 Paris -0.1276 51.5072 London " +
	"-73.935242 40.730610 NYC 139.6917 35.6895 Tokyo 151.2093 -33.8688 Sydney -179.9 -85.05 SouthPole 179.99 85.05 North 0 0 Origin " +
	"12.4964 41.9028 Rome 9.19 45.4642 Milan 14.2681 40.8518 Naples"

var geoCases = []dtCase{
	{"geoadd", []string{
		geoSetup, "ZRANGE geo 0 -1 WITHSCORES", "GEOADD geo 13.361389 38.115556 Palermo", "GEOADD geo CH 13.3 38.1 Palermo",
		"GEOADD geo NX 1 1 Palermo 2 2 New", "GEOADD geo XX CH 3 3 New 4 4 New2", "GEOADD geo NX XX 1 1 a", "GEOADD geo 1 2",
		"GEOADD geo 181 0 x", "GEOADD geo 0 86 x", "GEOADD geo abc 0 x", "GEOADD geo 0 abc x", "GEOADD geo GT 1 1 x",
		"GEOADD geo 1 1 a 2 2", "SET str x", "GEOADD str 1 1 a", "GEOADD geo -180 -85.05112878 min 180 85.05112878 max",
		"ZRANGE geo 0 -1 WITHSCORES",
	}},
	{"geopos-hash-dist", []string{
		geoSetup, "GEOPOS geo Palermo Catania nope Sydney SouthPole North Origin", "GEOPOS nokey a b", "GEOPOS geo",
		"GEOHASH geo Palermo Catania nope Sydney SouthPole North Origin", "GEOHASH nokey a",
		"GEODIST geo Palermo Catania", "GEODIST geo Palermo Catania km", "GEODIST geo Palermo Catania MI", "GEODIST geo Palermo Catania ft",
		"GEODIST geo Palermo Catania yd", "GEODIST geo Palermo nope", "GEODIST nokey a b", "GEODIST geo Paris Tokyo km extra",
		"GEODIST geo Paris London", "GEODIST geo Sydney NYC", "GEODIST geo SouthPole North", "GEODIST geo Paris Paris",
		"SET str x", "GEODIST str a b", "GEOPOS str a", "GEOHASH str a",
	}},
	{"georadius", []string{
		geoSetup, "GEORADIUS geo 15 37 200 km", "GEORADIUS geo 15 37 200 km WITHDIST WITHCOORD WITHHASH",
		"GEORADIUS geo 15 37 200 km ASC WITHDIST", "GEORADIUS geo 15 37 2000 km DESC WITHDIST", "GEORADIUS geo 15 37 2000 km COUNT 3",
		"GEORADIUS geo 15 37 2000 km COUNT 3 DESC WITHCOORD", "GEORADIUS geo 15 37 2000 km COUNT 2 ANY", "GEORADIUS geo 15 37 2000 km ANY",
		"GEORADIUS geo 15 37 2000 km COUNT 0", "GEORADIUS geo 15 37 2000 km COUNT x", "GEORADIUS geo 15 37 -1 km", "GEORADIUS geo 15 37 x km",
		"GEORADIUS geo 15 37 10 parsec", "GEORADIUS geo 200 37 10 km", "GEORADIUS geo 15 37 10 km FOO", "GEORADIUS nokey 15 37 10 km",
		"GEORADIUS geo 0 0 20000 km", "GEORADIUS geo 0 0 20000 km WITHDIST", "GEORADIUS geo 0 0 5000 mi ASC WITHDIST WITHHASH",
		"GEORADIUS geo 2 48 500 km WITHDIST", "GEORADIUS geo 2 48 500000 m WITHDIST", "GEORADIUS geo 2 48 1640420 ft WITHDIST",
		"GEORADIUS geo 15 37 2000 km STORE dst", "ZRANGE dst 0 -1 WITHSCORES", "GEORADIUS geo 15 37 2000 km STOREDIST dst",
		"ZRANGE dst 0 -1 WITHSCORES", "GEORADIUS geo 15 37 2000 km STORE dst WITHDIST", "GEORADIUS geo 15 37 1 m STORE dst",
		"EXISTS dst", "GEORADIUS nokey 15 37 1 m STORE dst", "GEORADIUS_RO geo 15 37 200 km WITHDIST", "GEORADIUS_RO geo 15 37 200 km STORE dst",
		"GEORADIUS geo 179 84 1000 km WITHDIST", "GEORADIUS geo -179 -84 1000 km WITHDIST", "GEORADIUS geo 15 37 0 km",
		"GEORADIUS geo 13.361389 38.115556 0 m WITHDIST",
	}},
	{"georadiusbymember", []string{
		geoSetup, "GEORADIUSBYMEMBER geo Palermo 200 km WITHDIST", "GEORADIUSBYMEMBER geo Rome 1000 km WITHDIST WITHCOORD ASC",
		"GEORADIUSBYMEMBER geo nope 200 km", "GEORADIUSBYMEMBER nokey nope 200 km", "GEORADIUSBYMEMBER nokey nope x y FOO",
		"GEORADIUSBYMEMBER geo Rome 1000 km STORE dst", "ZRANGE dst 0 -1 WITHSCORES", "GEORADIUSBYMEMBER_RO geo Rome 1000 km COUNT 2",
		"GEORADIUSBYMEMBER geo Rome x km", "GEORADIUSBYMEMBER_RO geo Rome 1000 km STOREDIST dst",
	}},
	{"geosearch", []string{
		geoSetup, "GEOSEARCH geo FROMMEMBER Rome BYRADIUS 1000 km WITHDIST", "GEOSEARCH geo FROMLONLAT 15 37 BYRADIUS 200 km ASC",
		"GEOSEARCH geo FROMLONLAT 15 37 BYBOX 400 400 km WITHDIST WITHCOORD", "GEOSEARCH geo FROMMEMBER Paris BYBOX 2000 1000 km DESC WITHDIST",
		"GEOSEARCH geo FROMLONLAT 15 37 BYBOX 4000 4000 km COUNT 3", "GEOSEARCH geo FROMLONLAT 15 37 BYBOX 4000 4000 km COUNT 3 ANY",
		"GEOSEARCH geo BYRADIUS 10 km", "GEOSEARCH geo FROMLONLAT 1 1", "GEOSEARCH geo FROMMEMBER Rome FROMLONLAT 1 1 BYRADIUS 1 km",
		"GEOSEARCH geo FROMMEMBER Rome BYRADIUS 1 km BYBOX 1 1 km", "GEOSEARCH geo FROMMEMBER nope BYRADIUS 1 km",
		"GEOSEARCH geo FROMLONLAT 1 1 BYBOX -1 1 km", "GEOSEARCH geo FROMLONLAT 1 1 BYBOX x 1 km", "GEOSEARCH geo FROMLONLAT 1 1 BYBOX 1 x km",
		"GEOSEARCH geo FROMLONLAT 1 1 BYRADIUS 1 km STORE dst", "GEOSEARCH geo FROMLONLAT 1 1 BYRADIUS 1 km STOREDIST",
		"GEOSEARCH nokey FROMMEMBER x BYRADIUS 1 km", "GEOSEARCH geo FROMLONLAT 15 37 BYBOX 1000 1000 mi WITHHASH",
		"GEOSEARCHSTORE dst geo FROMLONLAT 15 37 BYBOX 1000 1000 km", "ZRANGE dst 0 -1 WITHSCORES",
		"GEOSEARCHSTORE dst geo FROMLONLAT 15 37 BYBOX 1000 1000 km STOREDIST", "ZRANGE dst 0 -1 WITHSCORES",
		"GEOSEARCHSTORE dst geo FROMLONLAT 15 37 BYBOX 1000 1000 km WITHDIST", "GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYBOX 1 1 km",
		"EXISTS dst", "GEOSEARCH geo FROMLONLAT 0 0 BYBOX 40000 40000 km", "GEOSEARCH geo FROMLONLAT 151 -33 BYBOX 100 100 km WITHDIST",
		"GEOSEARCH geo FROMLONLAT 15 37 BYRADIUS 2000 km COUNT 1 ANY DESC",
	}},
}

func TestGeoDiff(t *testing.T) { dtRun(t, geoCases) }

// TestGeoRandomDiff compares searches over many random points.
func TestGeoRandomDiff(t *testing.T) {
	p := dtNewPair(t, 2)
	p.reset()
	r := rand.New(rand.NewPCG(7, 9))
	var lines []string
	for i := 0; i < 20; i++ {
		line := "GEOADD geo2"
		for j := 0; j < 50; j++ {
			line += fmt.Sprintf(" %.6f %.6f m%d", r.Float64()*360-180, r.Float64()*170-85, i*50+j)
		}
		lines = append(lines, line)
	}
	for i := 0; i < 40; i++ {
		lon, lat := r.Float64()*360-180, r.Float64()*170-85
		rad := r.Float64() * 3000
		lines = append(lines,
			fmt.Sprintf("GEORADIUS geo2 %.6f %.6f %.3f km WITHDIST WITHCOORD WITHHASH", lon, lat, rad),
			fmt.Sprintf("GEOSEARCH geo2 FROMLONLAT %.6f %.6f BYBOX %.3f %.3f km WITHDIST", lon, lat, rad*2, rad),
			fmt.Sprintf("GEOSEARCH geo2 FROMMEMBER m%d BYRADIUS %.3f mi ASC WITHDIST COUNT 5", i, rad),
			fmt.Sprintf("GEODIST geo2 m%d m%d km", i, i+100),
			fmt.Sprintf("GEOHASH geo2 m%d", i),
			fmt.Sprintf("GEOPOS geo2 m%d", i))
	}
	p.check(t, lines)
}
