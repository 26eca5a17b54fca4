// Brain maps: a run's per-voxel outputs in its subject's brain space, for the slice montages. The
// values and the mask come in their compact binary forms (a few bytes a voxel, not JSON numbers).
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
        valuesFloat32
        maskBits
        niftiUrl
        nifti { filename }
        subject { id name space { shape } rois { name voxelIndices } }
      }
    }
  }
`;
