# Sourced by the bench scripts (after setting root): java_bin, a JDK >= 22 (JAVA_HOME, else the first
# in /usr/lib/jvm, as ./dit4j looks, else the runtime bench/device-pack.sh packed, unpacked into
# .jdk), and jar, bench/target/benchmarks.jar (built when missing).
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/java}"
if [ -z "$java_bin" ] || ! "$java_bin" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then
  java_bin=$( (ls -d /usr/lib/jvm/*/bin/java 2>/dev/null || true) | while read -r j; do
    "$j" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])' && { echo "$j"; break; }; done)
fi
if [ -z "$java_bin" ] && [ -f "$root/.cache/device/jdk.tar.xz" ]; then
  [ -x "$root/.jdk/bin/java" ] || { rm -rf "$root/.jdk" && mkdir -p "$root/.jdk" && xz -dc "$root/.cache/device/jdk.tar.xz" | tar -x -C "$root/.jdk" --strip-components 1; }
  java_bin="$root/.jdk/bin/java"
fi
[ -n "$java_bin" ] || { echo "$(basename "$0"): needs a JDK >= 22 (set JAVA_HOME)" >&2; exit 1; }
jar="$root/bench/target/benchmarks.jar"
[ -f "$jar" ] || (cd "$root" && mvn -q -B -DskipTests package -pl bench -am)
