export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
