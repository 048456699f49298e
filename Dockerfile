# syntax=docker/dockerfile:1
#
# The Versus gateway in a small, non-root image.
#
#   docker build -t versus .
#   docker run --rm -p 3000:3000 versus          # console channel, no credentials
#
# Stage 1 builds the `versus` binary. host/build.rs builds the built-in
# plugins for wasm32-wasip2 on the way (adding that target with rustup if
# it is missing) and embeds them, so the binary needs no plugin files.
# Stage 2 is distroless: glibc, CA certificates and a `nonroot` user, no
# shell. Kubernetes probes /healthz and /readyz instead of a HEALTHCHECK.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# rust-toolchain.toml pins the channel and the wasm32-wasip2 target; adding
# them first keeps that download in its own cached layer.
COPY rust-toolchain.toml ./
RUN rustup show active-toolchain && rustup target add wasm32-wasip2
COPY . .
# Cache mounts keep the registry and the target directory between builds
# (BuildKit); the binary is copied out of the cached target directory.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p versus \
    && install -D -m 0755 target/release/versus /out/versus \
    && mkdir -p /out/empty

FROM gcr.io/distroless/cc-debian12:nonroot
# /app holds the config and templates: relative paths in config.yaml (such
# as config/slack_message.tmpl) resolve against it, as they do in a clone.
WORKDIR /app
COPY --from=build /out/versus /usr/local/bin/versus
COPY --chown=nonroot:nonroot config/ /app/config/
COPY --chown=nonroot:nonroot examples/ /app/examples/
# Mount points owned by the gateway's user (distroless has no shell to
# create them), so anonymous volumes start writable.
COPY --from=build --chown=nonroot:nonroot /out/empty /app/plugins
COPY --from=build --chown=nonroot:nonroot /out/empty /var/cache/versus
ENV VERSUS_CONFIG=/app/config/config.yaml \
    VERSUS_CACHE_DIR=/var/cache/versus \
    RUST_LOG=info
USER nonroot:nonroot
# Config and templates (mount a directory, not a single file, so hot reload
# sees edits and ConfigMap updates), plugin files for `plugins.dir`, and the
# compiled-component cache (native code: keep it private to this user).
VOLUME ["/app/config", "/app/plugins", "/var/cache/versus"]
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/versus"]
CMD ["serve"]
