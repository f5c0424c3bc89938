console.log('svclab');
