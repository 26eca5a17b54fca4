// Layer sweeps: the layer x ROI profile of a LAYER_SWEEP run and its chosen layers.
export const LayerProfileDoc = /* GraphQL */ `
  query LayerProfile($id: ID!, $metric: String) {
    run(id: $id) {
      id
      layerProfile(metric: $metric) {
        metric
        selectionMetric
        layers
        scopes
        cells { layer layerIndex scope roi value ciLow ciHigh cvValue best run { id } }
        bestLayers { scope roi layer layerIndex value ciLow ciHigh cvValue }
      }
    }
  }
`;
