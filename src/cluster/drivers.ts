// Driver registry: the lifecycle asks for a driver by name and gets the
// LabDriver interface; nothing above this file imports a driver directly.
import type { LabDriver } from './driver.ts';
import { EnvironmentError } from '../util/errors.ts';

/** Every driver, netns first (the one that needs no record to find a lab). */
export const DRIVERS = ['netns', 'libvirt'] as const;

export async function getDriver(name: string): Promise<LabDriver> {
  switch (name) {
    case 'netns': {
      const { NetnsDriver } = await import('./netns.ts');
      return new NetnsDriver() as unknown as LabDriver;
    }
    case 'libvirt': {
      const mod = await import('./libvirt/driver.ts').catch(() => undefined);
      if (!mod) throw new EnvironmentError('the libvirt driver is not available in this build');
      return new mod.LibvirtDriver() as unknown as LabDriver;
    }
  }
  throw new EnvironmentError(`unknown driver "${name}" (netns, libvirt)`);
}
