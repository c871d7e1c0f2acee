# The jit broker as a container image (docs/DEPLOY.md "The container"):
#
#   docker build -t jit .
#   docker run -d --name jit-broker -p 127.0.0.1:8080:8080 -v jit-data:/var/lib/jit \
#     -v /etc/jit/config.yaml:/etc/jit/config.yaml:ro jit
#
# Two stages: the build stage compiles `jit` with the release preset on Debian 12; the run stage
# is Debian 12 slim with only the shared libraries the binary links, CA certificates, tzdata and
# curl (for the health check), running as the unprivileged user jit. tests/deploy_test.py checks
# this file's shape and package names; no test builds it.

FROM debian:12 AS build

# The build packages of scripts/setup.sh that compiling the `jit` target needs: no test,
# lint, browser or packaging tools (JIT_BUILD_TESTS and JIT_BUILD_BENCH are off below). git
# reads the commit that `jit --version` prints (from the context's .git, when it has one).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates \
      libboost-dev libboost-system-dev \
      libssl-dev libcurl4-openssl-dev \
      nlohmann-json3-dev libsqlite3-dev \
      libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev \
      libpq-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN cmake --preset release -DJIT_BUILD_TESTS=OFF -DJIT_BUILD_BENCH=OFF \
 && cmake --build --preset release --target jit \
 && strip build/release/jit \
 && build/release/jit --version


FROM debian:12-slim

# The runtime libraries: the Debian packages of the shared libraries `jit` links (readelf -d:
# libsqlite3.so.0, libpq.so.5, libcurl.so.4, libyaml-cpp.so.0.7, libcrypto.so.3,
# libspdlog.so.1.10, libfmt.so.9, libstdc++.so.6, libgcc_s.so.1; libc6 is in the base image);
# apt brings what they depend on. ca-certificates: jit verifies the TLS of AWS, the OpenID
# provider and the notification endpoints. tzdata: rules with `hours:` name time zones.
# curl: the HEALTHCHECK below. libcurl4 is needed by jit anyway, so curl adds one small binary,
# and it speaks HTTP properly (status code, time-out, no proxy) where a shell /dev/tcp script
# would have to parse the answer itself.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsqlite3-0 libpq5 libcurl4 libyaml-cpp0.7 libssl3 libspdlog1.10 libfmt9 \
      libstdc++6 libgcc-s1 \
      ca-certificates tzdata curl \
 && rm -rf /var/lib/apt/lists/*

# The unprivileged user the broker runs as, with a fixed id so that volumes keep their owner
# across images and Kubernetes' runAsNonRoot can check it. Its home is the data folder.
RUN groupadd --system --gid 10001 jit \
 && useradd --system --uid 10001 --gid jit --home-dir /var/lib/jit --no-create-home \
      --shell /usr/sbin/nologin jit \
 && install -d -o jit -g jit -m 0700 /var/lib/jit \
 && install -d -o root -g jit -m 0750 /etc/jit

COPY --from=build /src/build/release/jit /usr/bin/jit

# The Debian package's commented example config (deploy/debian/config.yaml), listening on every
# address of the container instead of loopback, since the port is published from outside it.
# Mount your own over it (docs/DEPLOY.md); it must listen on 0.0.0.0:8080 too.
# Mode 0640 root:jit as in the package: it names who may do what.
COPY deploy/debian/config.yaml /etc/jit/config.yaml
RUN sed -i 's/^  listen: "127.0.0.1:8080"$/  listen: "0.0.0.0:8080"/' /etc/jit/config.yaml \
 && grep -q '^  listen: "0.0.0.0:8080"$' /etc/jit/config.yaml \
 && chown root:jit /etc/jit/config.yaml \
 && chmod 0640 /etc/jit/config.yaml \
 && jit config check /etc/jit/config.yaml

USER 10001:10001
WORKDIR /var/lib/jit
VOLUME /var/lib/jit
EXPOSE 8080

# /readyz answers 200 once the store answers and Identity Center is not failing (503 before).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["curl", "--fail", "--silent", "--show-error", "--output", "/dev/null", "--max-time", "4", \
       "--noproxy", "*", "http://127.0.0.1:8080/readyz"]

ENTRYPOINT ["/usr/bin/jit"]
CMD ["serve", "--config", "/etc/jit/config.yaml", "--data", "/var/lib/jit"]
