export * from './triangle';
export * from './rdm';
export * from './compare';
export * from './cka';
export * from './bootstrap';
export * from './ceiling';
export * from './analysis';
