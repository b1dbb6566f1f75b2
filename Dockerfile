# Build: docker build -t seam .   Run: docker run -p 4000:4000 -v $PWD/config:/etc/seam seam
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
# The demo's event subgraph SDL is compiled in.
COPY schemas schemas
RUN cargo build --release --locked --bin seam

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/seam /usr/local/bin/seam
COPY config /etc/seam
COPY schemas /etc/seam/schemas
USER 65534:65534
EXPOSE 4000
ENV SEAM_LISTEN=0.0.0.0:4000
ENTRYPOINT ["seam"]
CMD ["serve", "--config", "/etc/seam/seam.yaml"]
