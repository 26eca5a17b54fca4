-- AlterTable
ALTER TABLE "ResponseSet" ADD COLUMN     "splitHalfArtifactId" UUID,
ADD COLUMN     "splitHalfMedian" DOUBLE PRECISION,
ADD COLUMN     "splitHalfSplits" INTEGER;

-- AlterTable
ALTER TABLE "Subject" ADD COLUMN     "coordinatesArtifactId" UUID,
ADD COLUMN     "maskArtifactId" UUID,
ADD COLUMN     "spaceAffine" DOUBLE PRECISION[] DEFAULT ARRAY[]::DOUBLE PRECISION[],
ADD COLUMN     "spaceShape" INTEGER[] DEFAULT ARRAY[]::INTEGER[];
