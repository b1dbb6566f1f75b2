# Build: docker build -t seam .
# Run the bundled demo:  docker run -p 4000:4000 seam demo
# Front your subgraphs:  docker run -p 4000:4000 -e ACCOUNTS_URL=http://… -e PRODUCTS_URL=http://… \
#                          -e REVIEWS_URL=http://… -e INVENTORY_URL=http://… seam
# Your own config:       docker run -p 4000:4000 -v $PWD/my-config:/etc/seam seam
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
# The config lives alone in /etc/seam, so mounting a directory there replaces only the config;
# the demo SDLs stay available under /usr/share/seam.
COPY config/container.yaml /etc/seam/seam.yaml
COPY schemas /usr/share/seam/schemas
USER 65534:65534
EXPOSE 4000
ENV SEAM_LISTEN=0.0.0.0:4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["seam", "health"]
ENTRYPOINT ["seam"]
CMD ["serve", "--config", "/etc/seam/seam.yaml"]
