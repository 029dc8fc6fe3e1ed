#!/bin/sh
# Classify an image with nothing but curl: the edge decodes it, preprocesses it for the model, runs it on the server
# (POST /v1/classify) and answers JSON {label, className, confidence, exit, plan, timings, requestId}.
#
#   SPINN_EDGE_URL=https://spinn-edge-production.<you>.workers.dev SPINN_API_KEY=<key> \
#     ./examples/curl/classify.sh examples/images/ankle-boot.png [model]
#
# SPINN_EDGE_URL defaults to a local `npm run worker:dev` (http://127.0.0.1:8787); the key comes from
# `npm run key:new -- <name>` (docs/deploy.md). The model defaults to resnet56-fmnist (GET /v1/models lists them).
set -eu

image="${1:?usage: classify.sh IMAGE.png|IMAGE.jpg [MODEL]}"
model="${2:-resnet56-fmnist}"
case "$image" in
  *.jpg | *.jpeg | *.JPG | *.JPEG) type=image/jpeg ;;
  *) type=image/png ;;
esac

curl --fail-with-body --silent --show-error \
  -H "authorization: Bearer ${SPINN_API_KEY:?set SPINN_API_KEY to an API key of the edge}" \
  -H "content-type: $type" \
  --data-binary "@$image" \
  "${SPINN_EDGE_URL:-http://127.0.0.1:8787}/v1/classify?model=$model"
echo
