# The efm-harness image: FROM scratch, so that building it pulls nothing (the machines here reach no
# image registry). `make image` builds the static binary (CGO_ENABLED=0) into bin/ first, then this.
# One image for every role; the role is the command:
#   docker run efm-harness:local                      # up: the whole stack in one container
#   docker run efm-harness:local sim --only dpo       # one simulator
#   docker run efm-harness:local ip --dpo-url http://dpo:9101 …   # the reference integration point
# docker-compose.yml runs one container per service; simulator/stack/containers does the same from Go tests.
FROM scratch
LABEL org.opencontainers.image.title=efm-harness
# /tmp and /data, owned by the unprivileged user (a scratch image has no mkdir).
COPY --chown=65532:65532 bin/rootfs/ /
COPY bin/efm-harness /efm-harness
USER 65532:65532
ENV EFM_HOST=0.0.0.0 \
    EFM_DATA_DIR=/data \
    TMPDIR=/tmp
WORKDIR /data
EXPOSE 9090 9093 9095 9099 9100 9101 9102 9103 9104
# The control port of up and sim; docker-compose.yml checks each service's own port.
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["/efm-harness", "health"]
ENTRYPOINT ["/efm-harness"]
CMD ["up"]
