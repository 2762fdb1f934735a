# ledgerd and ledgerctl on Debian bookworm.
# The build stage uses the README's own command, `make build` (which runs
# scripts/install-deps.sh, then cmake); the runtime stage has only the
# shared libraries and the two programs. The database lives on /data.

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends make
WORKDIR /src
# Dependencies first, so that editing the sources does not reinstall them.
COPY Makefile ./
COPY scripts/ scripts/
RUN make deps
COPY . .
RUN make build

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libzmq5 libczmq4 libmsgpackc2 libsqlite3-0 libjansson4 libdqlite0 libmicrohttpd12 \
 && rm -rf /var/lib/apt/lists/*
# libledger, in case ledgerctl links the shared client library.
COPY --from=build /src/build/lib/libledger.so* /usr/local/lib/
RUN ldconfig \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home ledger \
 && mkdir -p /data && chown ledger:ledger /data
COPY --from=build /src/build/bin/ledgerd /src/build/bin/ledgerctl /usr/local/bin/
COPY --from=build /src/examples/sample.csv /app/examples/sample.csv
USER ledger
WORKDIR /data
VOLUME /data
EXPOSE 5555
# /metrics, /healthz, /readyz when started with --metrics-bind 0.0.0.0:9464 --insecure-bind.
EXPOSE 9464
CMD ["ledgerd", "--db", "/data/ledger.db", "--bind", "tcp://0.0.0.0:5555", "--insecure-bind"]
