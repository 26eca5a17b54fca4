// Representational similarity: the layer x ROI matrix, chosen layers and RDM heatmaps of a run.
export const RsaResultDoc = /* GraphQL */ `
  query RsaResult($id: ID!) {
    run(id: $id) {
      id
      representationalSimilarity {
        measures
        distance
        modelDistance
        layers
        scopes
        nStimuli
        nSelection
        cells { layer layerIndex scope roi measure value normalized selectionValue best }
        bestLayers { scope roi measure layer layerIndex value ciLow ciHigh normalized selectionValue ceilingLower ceilingUpper ceilingMethod ceilingSubjects }
        heatmaps { stimuli { position externalId concepts } brain { label size values } model { label size values } }
      }
    }
  }
`;
