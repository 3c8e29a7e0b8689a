# Sourced by ./lowbit, ./run-tests and .ci/run: finds a JDK 25+ and exports JAVA_HOME.
# Honours JAVA_HOME when it points at 25 or newer; otherwise looks for Temurin 25 and other JDKs
# under /usr/lib/jvm. Fails with a message naming what is missing.

lowbit_java_major() { # prints the feature version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}

lowbit_find_jdk() {
  local cand v
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/*-2[5-9]* /usr/lib/jvm/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$(lowbit_java_major "$cand/bin/java")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

if ! LOWBIT_JDK=$(lowbit_find_jdk); then
  echo "lowbit: no JDK 25 or newer found (JAVA_HOME='${JAVA_HOME:-}' is not one, and none under /usr/lib/jvm)." >&2
  echo "lowbit: install Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64 or set JAVA_HOME to a JDK 25+." >&2
  exit 2
fi
export JAVA_HOME="$LOWBIT_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
if ! command -v mvn >/dev/null 2>&1; then
  echo "lowbit: Maven (mvn) is not installed; install it with: apt-get install -y maven" >&2
  exit 2
fi
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
