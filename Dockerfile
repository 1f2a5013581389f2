# One image for the control centre and the edge agent (deploy/compose/docker-compose.yml runs both from it).
#   docker build -t vigil .                     centre: the default command
#   docker run vigil node dist/edge/src/main.js --config /etc/vigil/edge.yaml      edge agent
# Multi-stage: the build stage has the dev dependencies and the compiler; the runtime stage only production
# dependencies, the compiled code (dist/, as in the systemd units), the model manifests and ffmpeg.
ARG NODE_IMAGE=node:20-bookworm-slim

# Native modules (better-sqlite3) fall back to a source build where no prebuilt binary fits the platform.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/vigil
# .npmrc: onnxruntime-node-install=skip (its CPU binaries are in the package; nothing is downloaded for CUDA).
COPY package.json package-lock.json .npmrc ./

FROM toolchain AS prod-deps
RUN npm ci --omit=dev --no-audit --no-fund

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY scripts ./scripts
COPY libs ./libs
COPY apps ./apps
COPY edge ./edge
# tsc → dist/ (paths rewritten by tsc-alias), then the SQL migrations copied next to the compiled code.
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# ffmpeg: the edge's capture. tini: PID 1 that forwards signals and reaps the ffmpeg children.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/vigil
ENV NODE_ENV=production
COPY --from=prod-deps /opt/vigil/node_modules ./node_modules
COPY --from=build /opt/vigil/dist ./dist
# package.json marks the root the code finds models/ from (the manifests; weights are mounted, never baked in).
COPY package.json ./
COPY models ./models
# State folders owned by the unprivileged user, so named volumes mounted on them start writable.
RUN mkdir -p /var/lib/vigil /var/lib/vigil-edge /opt/vigil/weights \
  && chown node:node /var/lib/vigil /var/lib/vigil-edge
USER node
ENV DATA_DIR=/var/lib/vigil
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/apps/control-center/src/main.js"]
