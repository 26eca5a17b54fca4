// Catalog browsing: datasets with their subjects, ROIs and stimulus sets; models.
export const ServiceInfoDoc = /* GraphQL */ `
  query ServiceInfo {
    serviceInfo { version profile }
  }
`;

export const DatasetsDoc = /* GraphQL */ `
  query Datasets($first: Int, $after: String) {
    datasets(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name description visibility subjects { id } stimulusSets { id } } }
    }
  }
`;

export const DatasetDoc = /* GraphQL */ `
  query Dataset($id: ID!) {
    dataset(id: $id) {
      id
      name
      description
      visibility
      lab { name }
      subjects {
        id
        name
        nVoxels
        rois { id name nVoxels }
        responseSets { id name status nRepeats noiseCeilingMedian splitHalfMedian splitHalfSplits }
      }
      stimulusSets { id name description nStimuli }
    }
  }
`;

export const StimulusSetDoc = /* GraphQL */ `
  query StimulusSet($id: ID!, $first: Int, $after: String) {
    stimulusSet(id: $id) {
      id
      name
      description
      nStimuli
      nImages
      dataset { id name }
      stimuli(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id position externalId concepts caption image { width height format thumbnailUrl } } }
      }
    }
  }
`;

export const ModelsDoc = /* GraphQL */ `
  query Models($first: Int, $after: String) {
    models(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name kind family description featureWidth visibility featureSets { id status dim } } }
    }
  }
`;
