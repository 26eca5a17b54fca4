-- AlterTable
ALTER TABLE "ArtifactUpload" ADD COLUMN     "finalizingSince" TIMESTAMP(3);

