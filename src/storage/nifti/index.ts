export { affineDistance, formatAffine, type Affine } from './affine';
export { NiftiFormatError } from './errors';
export { parseHeader, scaling, volumeLayout, type NiftiHeader } from './header';
export { openNifti, readSingleVolume, type NiftiReader } from './reader';
export { encodeNifti1, type NiftiVolume } from './writer';
