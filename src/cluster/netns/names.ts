// Host paths only the netns driver creates (the namespace names both drivers
// use are in ../common/names.ts).

/** Pods' resolv.conf / hosts live in /etc/netns/<netns>/ (`ip netns exec` bind-mounts them). */
export const ETC_NETNS = '/etc/netns';
