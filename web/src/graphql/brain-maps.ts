// Brain maps: a run's per-voxel outputs in its subject's brain space, for the slice montages.
export const BrainMapOutputsDoc = /* GraphQL */ `
  query BrainMapOutputs($id: ID!) {
    run(id: $id) {
      id
      brainMapOutputs { name nRows }
    }
  }
`;

export const BrainMapDoc = /* GraphQL */ `
  query BrainMap($id: ID!, $output: String!, $row: Int) {
    run(id: $id) {
      id
      brainMap(output: $output, row: $row) {
        row
        nRows
        nVoxels
        nFinite
        min
        max
        values
        voxelIjk
        niftiUrl
        nifti { filename }
        subject { id name space { shape } rois { name voxelIndices } }
      }
    }
  }
`;
