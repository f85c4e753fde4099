# gen-typed.awk -v seed=N -v count=N: random records over every Delta type,
# for the round-trip property test in tests/parse.bats.  Some values are
# invalid on purpose; every pipeline under test must reject the same ones.
function r(n) { return int(rand() * n) }
function pick(s,   a, n) { n = split(s, a, "|"); return a[r(n) + 1] }
function digits(n,   s, i) { s = ""; for (i = 0; i < n; i++) s = s r(10); return s }
function num(   s) {
	s = (r(3) == 0 ? "-" : "") (r(5) == 0 ? "0" : (r(9) + 1) digits(r(8)))
	if (r(2)) s = s "." digits(r(6) + 1)
	if (r(6) == 0) s = s "e" pick("-|+|") r(40)
	return s
}
function str(   s, i, n) {
	n = r(8); s = ""
	for (i = 0; i < n; i++) s = s pick("a|Z|0| |\\\"|\\\\|\\n|\\t|\\u0001|é|\\u00e9|\\ud83d\\ude00|€|/|\\/|x")
	return "\"" s "\""
}
function b64(   s, i, n) {
	n = r(4); s = ""
	for (i = 0; i < 4 * n; i++) s = s substr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", r(64) + 1, 1)
	if (n && r(3) == 0) s = substr(s, 1, length(s) - 1) "="
	return "\"" s "\""
}
function date(   y) { return sprintf("\"%04d-%02d-%02d\"", r(9999) + 1, r(12) + 1, r(28) + 1) }
function ts(   t) {
	t = r(4)
	if (t == 0) return sprintf("%d", r(2000000000) - 100000000)
	if (t == 1) return sprintf("%d%03d", r(2000000000), r(1000))
	return sprintf("\"%04d-%02d-%02dT%02d:%02d:%02d%s%s\"", r(9999) + 1, r(12) + 1, r(28) + 1, r(24), r(60), r(60),
		r(2) ? "." digits(r(9) + 1) : "", pick("Z|+05:30|-0800||+14:00|z"))
}
function ntz() { return sprintf("\"%04d-%02d-%02d %02d:%02d:%02d.%s\"", r(9999) + 1, r(12) + 1, r(28) + 1, r(24), r(60), r(60), digits(r(6) + 1)) }
function val(kind) {
	if (r(12) == 0) return "null"
	if (kind == "b") return pick("true|false|\"TRUE\"|0|1")
	if (kind == "i8") return r(300) - 150
	if (kind == "i16") return pick("-32768|32767|" (r(70000) - 35000))
	if (kind == "i32") return pick("-2147483648|2147483647|" (r(5000000) - 2500000) "|\"" r(100) "\"")
	if (kind == "i64") return pick("-9223372036854775808|9223372036854775807|" digits(r(18) + 1) "|" r(1000) ".0")
	if (kind == "f" || kind == "d") return r(10) == 0 ? pick("\"NaN\"|\"Infinity\"|\"-Infinity\"|-0.0") : num()
	if (kind == "dec") return r(5) == 0 ? "\"" num() "\"" : num()
	if (kind == "s") return r(8) == 0 ? num() : str()
	if (kind == "bin") return b64()
	if (kind == "dt") return date()
	if (kind == "ts") return ts()
	if (kind == "ntz") return ntz()
	if (kind == "arr") return "[" (r(3) ? r(100) : "") (r(2) ? "," (r(4) ? r(100000) : "null") : "") "]"
	if (kind == "m") return "{" (r(3) ? "\"k\":" num() : "") (r(2) ? ",\"k2\":" pick("1.5|null|\"NaN\"") : "") "}"
	if (kind == "mi") return "{" (r(3) ? "\"" (r(200) - 100) "\":" str() : "") "}"
	if (kind == "st") return "{\"a\":" str() ",\"b\":[" (r(2) ? "{\"c\":" num() "}" : "") "]}"
	if (kind == "v") return "null"
}
BEGIN {
	srand(seed)
	split("b i8 i16 i32 i64 f d dec s bin dt ts ntz arr m mi st v", k, " ")
	for (n = 0; n < count; n++) {
		line = "{"
		for (j = 1; j <= 18; j++) {
			if (r(15) == 0) continue
			line = line (line == "{" ? "" : ",") "\"" k[j] "\":" val(k[j])
		}
		print line "}"
	}
}
